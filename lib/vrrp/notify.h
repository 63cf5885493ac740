// SPDX-License-Identifier: BSD-3-Clause
// keepalived's notify scripts (keepalived.md §1.2-1.3, vrrp_notify.c): which command lines to run
// when an instance or a sync group changes state. This file only *describes* the processes
// (argv vectors); notify_runner.h runs them.
//
// For every state change keepalived runs, in this order:
//   1. the state's own script, notify_master / notify_backup / notify_fault / notify_stop, with
//      exactly the arguments written in the configuration;
//   2. the generic `notify` script with four extra arguments: INSTANCE|GROUP, the name,
//      MASTER|BACKUP|FAULT|STOP, and the priority (the effective priority for an instance,
//      always 0 for a group).
// A script string is split into argv like keepalived's alloc_strvec_quoted_escaped(): words
// separated by unquoted white space; '...' and "..." group (and are removed); a backslash
// escapes the next character, with \a \b \E \f \n \r \t \v, \xHH, \cX and \NNN (octal) decoded,
// inside quotes too. The configuration layer has already removed the keyword's own quotes
// (`notify_master "/x.sh a 'b c'"` arrives as `/x.sh a 'b c'`).
//
// Caller: control lcore. Allocates; not for the hot path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace director::vrrp {

/** The state names keepalived passes to scripts and writes to its notify FIFO. */
enum class NotifyState : uint8_t { Master, Backup, Fault, Stop };

/** "MASTER", "BACKUP", "FAULT", "STOP". */
const char* to_string(NotifyState s) noexcept;

/** Whose state changed: the first argument of the generic `notify` script. */
enum class NotifyScope : uint8_t { Instance, Group };

/** "INSTANCE" or "GROUP". */
const char* to_string(NotifyScope s) noexcept;

/**
 * Splits a script string into argv (see the file comment for the rules).
 *
 * @return the words; an error for an unterminated quote, a trailing backslash, or a string
 *         with no words at all (keepalived: "Unable to parse script")
 */
Result<std::vector<std::string>> split_script(std::string_view script);

/** The configured scripts of one instance or group, already split into argv. Empty = none. */
struct NotifyScripts {
    std::vector<std::string> master;
    std::vector<std::string> backup;
    std::vector<std::string> fault;
    std::vector<std::string> stop;
    std::vector<std::string> generic;  ///< `notify`: gets the four extra arguments

    /**
     * Splits the configured strings (nullopt = not configured).
     * @return the scripts, or the first parse error, naming the keyword
     */
    static Result<NotifyScripts> create(const std::optional<std::string>& notify_master,
                                        const std::optional<std::string>& notify_backup,
                                        const std::optional<std::string>& notify_fault,
                                        const std::optional<std::string>& notify_stop,
                                        const std::optional<std::string>& notify);

    friend bool operator==(const NotifyScripts&, const NotifyScripts&) = default;
};

/** One process to start. */
struct NotifySpec {
    std::string keyword;            ///< "notify_master" ... "notify_stop" or "notify"
    std::vector<std::string> argv;  ///< argv[0] is the program (searched in PATH)

    friend bool operator==(const NotifySpec&, const NotifySpec&) = default;
};

/**
 * The processes keepalived would start for one state change, in its order (state script,
 * then the generic one).
 *
 * Caller: control lcore.
 *
 * @param scripts   the instance's or group's scripts
 * @param scope     Instance or Group
 * @param name      instance / group name, passed unquoted as one argument
 * @param state     the new state
 * @param priority  effective priority for an instance; keepalived passes 0 for a group
 * @return zero, one or two specs
 */
std::vector<NotifySpec> notify_specs(const NotifyScripts& scripts, NotifyScope scope,
                                     std::string_view name, NotifyState state, uint8_t priority);

/**
 * keepalived's notify FIFO line for a state change, newline included:
 * `INSTANCE "VI_1" MASTER 100\n` / `GROUP "G1" BACKUP 0\n` (vrrp_notify.c notify_fifo).
 */
std::string fifo_line(NotifyScope scope, std::string_view name, NotifyState state,
                      uint8_t priority);

}  // namespace director::vrrp

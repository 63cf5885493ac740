// SPDX-License-Identifier: BSD-3-Clause
// Private to lib/config: the syntax layer of the keepalived.conf importer. It turns keepalived's
// text (lib/parser.c rules, shared/reference/keepalived.md §1.0) into a tree of statements,
// knowing nothing about what the keywords mean; keepalived.cc maps the tree onto a Config.
//
// Lexical rules implemented:
//   - `#` and `!` start a comment to the end of the line, anywhere outside quotes; `\#` and
//     `\!` are literal. Comments may hold any UTF-8 text.
//   - `"…"` and `'…'` are quoted strings; quotes are removed, inner whitespace and `{ } # !` are
//     kept, shell-like escapes are decoded (`\n \t \r \\ \" \' \xHH \NNN \cC`).
//   - `{` and `}` are tokens of their own even when glued to a word; a block may open on the
//     keyword's line or on the next line.
//   - a trailing `\` joins the next physical line.
//   - `include PATTERN…` at any level: glob(3) patterns with `{a,b}` braces, relative to the
//     including file's directory; a pattern that matches nothing is ignored (keepalived's plain
//     include); a file that includes itself, directly or not, is a fatal error.
//   - `@ID` conditional lines, `$NAME=` parameter definitions and `~SEQ`/`~LST` loops are not
//     expanded: such lines are reported as unsupported and skipped.
//
// Caller: the importer, one thread. Reads files; no other side effects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/keepalived.h"

namespace director::config::detail {

/** One statement: `keyword args… [{ children… }]`, positioned at its keyword. */
struct KaNode {
    std::string keyword;
    std::vector<std::string> args;
    std::vector<KaNode> children;
    bool has_block = false;  ///< true when `{ … }` followed, even if empty
    std::string file;
    int line = 0;
    uint32_t seq = 0;  ///< position in reading order across all files (for sorting reports)
};

/** The statements of a file and everything it includes, in reading order. */
struct KaTree {
    std::vector<KaNode> nodes;
    /// Fatal: unreadable file, unbalanced braces, include cycle. nodes are not usable then.
    std::vector<ImportIssue> errors;
    /// Lines skipped because they use keepalived features the importer does not expand.
    std::vector<ImportIssue> unsupported;
    /// Informational (e.g. an include pattern that matched no file).
    std::vector<std::string> notes;
};

/**
 * Reads and parses a keepalived.conf file and its includes.
 *
 * @param path  the file; relative includes resolve against its directory
 * @return the statement tree, or errors (each `FILE:LINE`) if the file cannot be read or parsed
 */
KaTree parse_keepalived_file(const std::string& path);

/**
 * Parses keepalived.conf text as if it had been read from `filename` (which names it in
 * messages and anchors relative includes; the file itself is not read).
 */
KaTree parse_keepalived_text(std::string_view text, const std::string& filename);

/**
 * import_keepalived_file() on text instead of a file (tests; `filename` as above). Defined in
 * keepalived.cc.
 */
ImportResult import_keepalived_text(std::string_view text, const std::string& filename);

}  // namespace director::config::detail

// SPDX-License-Identifier: BSD-3-Clause
#include "vrrp/notify.h"

#include <cctype>

namespace director::vrrp {

const char* to_string(NotifyState s) noexcept {
    switch (s) {
        case NotifyState::Master:
            return "MASTER";
        case NotifyState::Backup:
            return "BACKUP";
        case NotifyState::Fault:
            return "FAULT";
        case NotifyState::Stop:
            return "STOP";
    }
    return "{UNKNOWN}";  // keepalived's spelling for an unexpected state
}

const char* to_string(NotifyScope s) noexcept {
    return s == NotifyScope::Group ? "GROUP" : "INSTANCE";
}

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_octal(char c) { return c >= '0' && c <= '7'; }

int hex_value(char c) {
    return std::isdigit(static_cast<unsigned char>(c))
               ? c - '0'
               : 10 + std::tolower(static_cast<unsigned char>(c)) - 'a';
}

}  // namespace

Result<std::vector<std::string>> split_script(std::string_view s) {
    // A transcription of keepalived's alloc_strvec_quoted_escaped() (lib/parser.c).
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) {
            ++i;
        }
        if (i == s.size()) {
            break;
        }
        std::string word;
        char quote = 0;
        while (i < s.size()) {
            const char c = s[i];
            if (c == '\\') {
                ++i;
                if (i == s.size()) {
                    return make_error("missing escape character at end of '" + std::string(s) +
                                      "'");
                }
                const char e = s[i];
                uint8_t out = 0;
                if (e == 'x' && i + 1 < s.size() &&
                    std::isxdigit(static_cast<unsigned char>(s[i + 1]))) {
                    ++i;
                    while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) {
                        out = static_cast<uint8_t>(out << 4 | hex_value(s[i]));
                        ++i;
                    }
                } else if (e == 'c' && i + 1 < s.size()) {
                    out = static_cast<uint8_t>(s[i + 1] & 0x1f);  // control character
                    i += 2;
                } else if (is_octal(e)) {
                    out = static_cast<uint8_t>(e - '0');
                    ++i;
                    for (int k = 0; k < 2 && i < s.size() && is_octal(s[i]); ++k, ++i) {
                        out = static_cast<uint8_t>(out << 3 | (s[i] - '0'));
                    }
                } else {
                    switch (e) {
                        case 'a':
                            out = '\a';
                            break;
                        case 'b':
                            out = '\b';
                            break;
                        case 'E':
                            out = 0x1b;
                            break;
                        case 'f':
                            out = '\f';
                            break;
                        case 'n':
                            out = '\n';
                            break;
                        case 'r':
                            out = '\r';
                            break;
                        case 't':
                            out = '\t';
                            break;
                        case 'v':
                            out = '\v';
                            break;
                        default:
                            out = static_cast<uint8_t>(e);
                            break;  // \" \' \\ and others
                    }
                    ++i;
                }
                word.push_back(static_cast<char>(out));
                continue;
            }
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;  // closing quote: dropped, the word goes on
                } else {
                    word.push_back(c);
                }
                ++i;
                continue;
            }
            if (c == '"' || c == '\'') {
                quote = c;
                ++i;
                continue;
            }
            if (is_space(c)) {
                break;
            }
            word.push_back(c);
            ++i;
        }
        if (quote != 0) {
            return make_error("string '" + std::string(s) + "': missing terminating " +
                              std::string(1, quote));
        }
        words.push_back(std::move(word));
    }
    if (words.empty()) {
        return make_error("empty script");
    }
    return words;
}

Result<NotifyScripts> NotifyScripts::create(const std::optional<std::string>& notify_master,
                                            const std::optional<std::string>& notify_backup,
                                            const std::optional<std::string>& notify_fault,
                                            const std::optional<std::string>& notify_stop,
                                            const std::optional<std::string>& notify) {
    NotifyScripts out;
    const struct {
        const char* keyword;
        const std::optional<std::string>& text;
        std::vector<std::string>& argv;
    } fields[] = {{"notify_master", notify_master, out.master},
                  {"notify_backup", notify_backup, out.backup},
                  {"notify_fault", notify_fault, out.fault},
                  {"notify_stop", notify_stop, out.stop},
                  {"notify", notify, out.generic}};
    for (const auto& f : fields) {
        if (!f.text) {
            continue;
        }
        auto argv = split_script(*f.text);
        if (!argv) {
            return make_error(std::string(f.keyword) + ": " + argv.error().message);
        }
        f.argv = std::move(*argv);
    }
    return out;
}

std::vector<NotifySpec> notify_specs(const NotifyScripts& scripts, NotifyScope scope,
                                     std::string_view name, NotifyState state, uint8_t priority) {
    std::vector<NotifySpec> out;
    const std::vector<std::string>* own = nullptr;
    const char* keyword = "";
    switch (state) {
        case NotifyState::Master:
            own = &scripts.master;
            keyword = "notify_master";
            break;
        case NotifyState::Backup:
            own = &scripts.backup;
            keyword = "notify_backup";
            break;
        case NotifyState::Fault:
            own = &scripts.fault;
            keyword = "notify_fault";
            break;
        case NotifyState::Stop:
            own = &scripts.stop;
            keyword = "notify_stop";
            break;
    }
    if (own != nullptr && !own->empty()) {
        out.push_back(NotifySpec{keyword, *own});
    }
    if (!scripts.generic.empty()) {
        // vrrp_notify.c notify_script_exec: script {GROUP|INSTANCE} NAME STATE PRIO.
        NotifySpec spec{"notify", scripts.generic};
        spec.argv.emplace_back(to_string(scope));
        spec.argv.emplace_back(name);
        spec.argv.emplace_back(to_string(state));
        spec.argv.push_back(std::to_string(scope == NotifyScope::Group ? 0 : priority));
        out.push_back(std::move(spec));
    }
    return out;
}

std::string fifo_line(NotifyScope scope, std::string_view name, NotifyState state,
                      uint8_t priority) {
    std::string line = to_string(scope);
    line += " \"";
    line += name;
    line += "\" ";
    line += to_string(state);
    line += ' ';
    line += std::to_string(scope == NotifyScope::Group ? 0 : priority);
    line += '\n';
    return line;
}

}  // namespace director::vrrp

// SPDX-License-Identifier: BSD-3-Clause
#include "config/detail/keepalived_lexer.h"

#include <glob.h>
#include <limits.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace director::config::detail {
namespace {

enum class TokKind : uint8_t { Word, Open, Close, EndOfLine };

struct Token {
    TokKind kind = TokKind::Word;
    std::string text;
    bool quoted = false;  // a word with a quoted part is never a directive (include, @ID, $X=)
    std::string file;
    int line = 0;
};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

bool is_octal(char c) { return c >= '0' && c <= '7'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string canonical_path(const std::string& path) {
    char buf[PATH_MAX];
    if (realpath(path.c_str(), buf) != nullptr) {
        return buf;
    }
    return path;
}

bool read_whole_file(const std::string& path, std::string& out, std::string& why) {
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        why = "is a directory";
        return false;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = std::strerror(errno);
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

class Lexer {
public:
    explicit Lexer(KaTree& tree) : tree_(tree) {}

    // Reads a file reached through `include` (or the top-level file when from_line == 0).
    bool lex_path(const std::string& path, const std::string& from_file, int from_line) {
        std::string text;
        std::string why;
        if (!read_whole_file(path, text, why)) {
            if (from_line == 0) {
                tree_.errors.push_back({path, 0, "cannot read file: " + why});
            } else {
                tree_.errors.push_back(
                    {from_file, from_line, "cannot read included file '" + path + "': " + why});
            }
            return false;
        }
        return lex_text(text, path, from_file, from_line);
    }

    bool lex_text(std::string_view text, const std::string& file, const std::string& from_file,
                  int from_line) {
        const std::string canonical = canonical_path(file);
        if (std::find(stack_.begin(), stack_.end(), canonical) != stack_.end()) {
            // keepalived would recurse until it runs out of file descriptors; say it instead.
            tree_.errors.push_back(
                {from_file, from_line, "include cycle: '" + file + "' is already being read"});
            return false;
        }
        stack_.push_back(canonical);
        size_t pos = 0;
        int line = 1;
        bool ok = true;
        while (ok && pos < text.size()) {
            const size_t line_pos = pos;
            const int line_no = line;
            std::vector<Token> tokens;
            ok = scan_line(text, pos, line, file, /*raw_braces=*/false, tokens);
            if (!ok || tokens.empty()) {
                continue;
            }
            const Token& first = tokens.front();
            if (first.kind == TokKind::Word && !first.quoted && first.text == "include") {
                // Re-read the line with braces as part of words: `include conf.d/{a,b}.conf`.
                pos = line_pos;
                line = line_no;
                tokens.clear();
                ok = scan_line(text, pos, line, file, /*raw_braces=*/true, tokens);
                ok = ok && include(tokens, file);
                continue;
            }
            if (first.kind == TokKind::Word && !first.quoted && is_unexpanded_directive(first)) {
                tree_.unsupported.push_back(
                    {file, first.line, "unsupported keyword '" + first.text + "'"});
                continue;
            }
            for (Token& t : tokens) {
                tokens_.push_back(std::move(t));
            }
            tokens_.push_back({TokKind::EndOfLine, "", false, file, line_no});
        }
        stack_.pop_back();
        (void)from_file;
        return ok;
    }

    std::vector<Token>& tokens() { return tokens_; }

private:
    // `@ID` / `@^ID` conditionals, `$NAME=value` definitions and `~SEQ(...)` / `~LST(...)` loops
    // change what the file means depending on the host; they are not expanded.
    static bool is_unexpanded_directive(const Token& t) {
        if (t.text.starts_with('@') || t.text.starts_with('~')) {
            return true;
        }
        return t.text.starts_with('$') && t.text.find('=') != std::string::npos;
    }

    // Scans one logical line (physical lines joined by a trailing backslash) starting at pos.
    bool scan_line(std::string_view text, size_t& pos, int& line, const std::string& file,
                   bool raw_braces, std::vector<Token>& out) {
        std::string word;
        bool in_word = false;
        bool quoted = false;
        int word_line = line;
        const auto start_word = [&] {
            if (!in_word) {
                in_word = true;
                quoted = false;
                word_line = line;
            }
        };
        const auto flush = [&] {
            if (in_word) {
                out.push_back({TokKind::Word, std::move(word), quoted, file, word_line});
                word.clear();
                in_word = false;
            }
        };
        const size_t n = text.size();
        while (pos < n) {
            const char c = text[pos];
            if (c == '\n') {
                ++pos;
                ++line;
                flush();
                return true;
            }
            if (c == '\\' && continuation_at(text, pos)) {
                pos = skip_continuation(text, pos);
                ++line;
                continue;
            }
            if (is_blank(c)) {
                flush();
                ++pos;
                continue;
            }
            if (c == '#' || c == '!') {
                flush();
                while (pos < n && text[pos] != '\n') {
                    ++pos;
                }
                continue;
            }
            if (!raw_braces && (c == '{' || c == '}')) {
                flush();
                out.push_back({c == '{' ? TokKind::Open : TokKind::Close, std::string(1, c), false,
                               file, line});
                ++pos;
                continue;
            }
            if (c == '"' || c == '\'') {
                start_word();
                quoted = true;
                if (!read_quoted(text, pos, line, file, word)) {
                    return false;
                }
                continue;
            }
            if (c == '\\' && pos + 1 < n && std::strchr("#!{}\"'\\ \t", text[pos + 1]) != nullptr) {
                start_word();
                word += text[pos + 1];
                pos += 2;
                continue;
            }
            start_word();
            word += c;
            ++pos;
        }
        flush();
        return true;
    }

    static bool continuation_at(std::string_view text, size_t pos) {
        if (pos + 1 < text.size() && text[pos + 1] == '\n') {
            return true;
        }
        return pos + 2 < text.size() && text[pos + 1] == '\r' && text[pos + 2] == '\n';
    }

    static size_t skip_continuation(std::string_view text, size_t pos) {
        return text[pos + 1] == '\n' ? pos + 2 : pos + 3;
    }

    // pos is at the opening quote; on return it is past the closing one.
    bool read_quoted(std::string_view text, size_t& pos, int& line, const std::string& file,
                     std::string& word) {
        const char quote = text[pos];
        const int open_line = line;
        ++pos;
        const size_t n = text.size();
        while (pos < n) {
            const char c = text[pos];
            if (c == quote) {
                ++pos;
                return true;
            }
            if (c == '\n') {
                break;
            }
            if (c != '\\' || pos + 1 >= n) {
                word += c;
                ++pos;
                continue;
            }
            if (continuation_at(text, pos)) {
                pos = skip_continuation(text, pos);
                ++line;
                continue;
            }
            pos += decode_escape(text, pos + 1, word) + 1;
        }
        tree_.errors.push_back(
            {file, open_line, std::string("unterminated quoted string (missing ") + quote + ")"});
        return false;
    }

    // Decodes the escape whose letter is at text[at]; returns the characters consumed.
    static size_t decode_escape(std::string_view text, size_t at, std::string& word) {
        static constexpr std::pair<char, char> kSimple[] = {
            {'n', '\n'}, {'t', '\t'}, {'r', '\r'}, {'a', '\a'},
            {'b', '\b'}, {'f', '\f'}, {'v', '\v'}, {'e', '\x1b'},
        };
        const char e = text[at];
        for (const auto& [letter, value] : kSimple) {
            if (e == letter) {
                word += value;
                return 1;
            }
        }
        switch (e) {
            case 'c':
                if (at + 1 < text.size()) {
                    word += static_cast<char>(text[at + 1] & 0x1f);
                    return 2;
                }
                break;
            case 'x': {
                int value = 0;
                size_t used = 0;
                while (used < 2 && at + 1 + used < text.size() &&
                       hex_value(text[at + 1 + used]) >= 0) {
                    value = value * 16 + hex_value(text[at + 1 + used]);
                    ++used;
                }
                if (used > 0) {
                    word += static_cast<char>(value);
                    return 1 + used;
                }
                break;
            }
            default:
                if (is_octal(e)) {
                    int value = 0;
                    size_t used = 0;
                    while (used < 3 && at + used < text.size() && is_octal(text[at + used])) {
                        value = value * 8 + (text[at + used] - '0');
                        ++used;
                    }
                    word += static_cast<char>(value);
                    return used;
                }
                if (e == '\\' || e == '"' || e == '\'') {
                    word += e;
                    return 1;
                }
                break;
        }
        // Unknown escape: kept verbatim, as a shell does inside $'…'.
        word += '\\';
        word += e;
        return 1;
    }

    bool include(const std::vector<Token>& tokens, const std::string& file) {
        const int line = tokens.front().line;
        if (tokens.size() < 2) {
            tree_.errors.push_back({file, line, "'include' needs a file name"});
            return false;
        }
        for (size_t i = 1; i < tokens.size(); ++i) {
            std::string pattern = tokens[i].text;
            if (!pattern.starts_with('/')) {
                pattern = directory_of(file) + "/" + pattern;
            }
            glob_t g{};
            const int rc = glob(pattern.c_str(), GLOB_BRACE | GLOB_TILDE, nullptr, &g);
            if (rc == GLOB_NOMATCH) {
                tree_.notes.push_back(file + ":" + std::to_string(line) + ": include '" +
                                      tokens[i].text +
                                      "' matches no file; ignored, as keepalived does");
                globfree(&g);
                continue;
            }
            if (rc != 0) {
                tree_.errors.push_back(
                    {file, line, "cannot expand include '" + tokens[i].text + "'"});
                globfree(&g);
                return false;
            }
            // glob(3) returns the matches sorted, which is the order keepalived reads them in.
            std::vector<std::string> matches(g.gl_pathv, g.gl_pathv + g.gl_pathc);
            globfree(&g);
            for (const std::string& path : matches) {
                if (!lex_path(path, file, line)) {
                    return false;
                }
            }
        }
        return true;
    }

    KaTree& tree_;
    std::vector<Token> tokens_;
    std::vector<std::string> stack_;  // canonical paths of the files being read, outermost first
};

class TreeBuilder {
public:
    TreeBuilder(const std::vector<Token>& tokens, KaTree& tree) : tokens_(tokens), tree_(tree) {}

    bool build() { return block(tree_.nodes, nullptr); }

private:
    // Reads statements into out until the `}` that closes owner (or the end, at top level).
    bool block(std::vector<KaNode>& out, const KaNode* owner) {
        constexpr size_t kNone = static_cast<size_t>(-1);
        size_t current = kNone;   // statement being read on this line
        size_t previous = kNone;  // last complete statement: a `{` on the next line is its block
        while (i_ < tokens_.size()) {
            const Token& t = tokens_[i_];
            switch (t.kind) {
                case TokKind::Word:
                    if (current == kNone) {
                        out.push_back(KaNode{t.text, {}, {}, false, t.file, t.line, seq_++});
                        current = out.size() - 1;
                    } else {
                        out[current].args.push_back(t.text);
                    }
                    ++i_;
                    break;
                case TokKind::EndOfLine:
                    if (current != kNone) {
                        previous = current;
                    }
                    current = kNone;
                    ++i_;
                    break;
                case TokKind::Open: {
                    const size_t target = current != kNone ? current : previous;
                    if (target == kNone || out[target].has_block) {
                        tree_.errors.push_back({t.file, t.line, "'{' without a keyword before it"});
                        return false;
                    }
                    out[target].has_block = true;
                    ++i_;
                    if (!block(out[target].children, &out[target])) {
                        return false;
                    }
                    current = kNone;
                    previous = kNone;
                    break;
                }
                case TokKind::Close:
                    if (owner == nullptr) {
                        tree_.errors.push_back(
                            {t.file, t.line, "unbalanced '}': no block is open"});
                        return false;
                    }
                    ++i_;
                    return true;
            }
        }
        if (owner != nullptr) {
            tree_.errors.push_back({owner->file, owner->line,
                                    "unbalanced braces: the block of '" + owner->keyword +
                                        "' is never closed (missing '}')"});
            return false;
        }
        return true;
    }

    const std::vector<Token>& tokens_;
    KaTree& tree_;
    size_t i_ = 0;
    uint32_t seq_ = 0;
};

KaTree finish(Lexer& lexer, KaTree tree, bool lexed) {
    if (lexed && tree.errors.empty()) {
        TreeBuilder(lexer.tokens(), tree).build();
    }
    if (!tree.errors.empty()) {
        tree.nodes.clear();
    }
    return tree;
}

}  // namespace

KaTree parse_keepalived_file(const std::string& path) {
    KaTree tree;
    Lexer lexer(tree);
    const bool ok = lexer.lex_path(path, path, 0);
    return finish(lexer, std::move(tree), ok);
}

KaTree parse_keepalived_text(std::string_view text, const std::string& filename) {
    KaTree tree;
    Lexer lexer(tree);
    const bool ok = lexer.lex_text(text, filename, filename, 0);
    return finish(lexer, std::move(tree), ok);
}

}  // namespace director::config::detail

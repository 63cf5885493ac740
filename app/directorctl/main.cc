// SPDX-License-Identifier: BSD-3-Clause
// directorctl: the operator's command-line tool. Each subcommand is one row of kCommands, so
// that reload, status and the other control-socket commands slot in as further rows.
//
//   directorctl import-keepalived FILE   keepalived.conf -> director.yaml on stdout
//   directorctl help [COMMAND]
//
// Exit status: 0 success, 1 fatal error (or bad usage), 2 done but with something to review
// (import-keepalived: keywords that have no director counterpart).
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "config/emit.h"
#include "config/keepalived.h"
#include "config/load.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFatal = 1;
constexpr int kExitReview = 2;

struct Command {
    std::string_view name;
    std::string_view args;     // usage synopsis after the name
    std::string_view summary;  // one line for `help`
    std::string_view details;  // `help COMMAND`
    int (*run)(std::span<char*> args);
};

int cmd_help(std::span<char*> args);
int cmd_import_keepalived(std::span<char*> args);

constexpr Command kCommands[] = {
    {"import-keepalived", "FILE", "convert a keepalived.conf to director.yaml (stdout)",
     "Reads FILE with keepalived's syntax (comments, quotes, includes with globs) and writes\n"
     "the equivalent director.yaml on stdout, keepalived's defaults made explicit.\n"
     "On stderr: notes (placeholders to fill in, defaults applied) and one\n"
     "'FILE:LINE: unsupported keyword ...' line per construct the director cannot express.\n"
     "Exit status: 0 all mapped; 2 something unsupported, or the result does not pass\n"
     "validation (the YAML is still written, the reasons on stderr);\n"
     "1 the file cannot be read or parsed (unbalanced braces, include cycle).\n",
     cmd_import_keepalived},
    {"help", "[COMMAND]", "show this help, or the details of one command", "", cmd_help},
};

const Command* find_command(std::string_view name) {
    for (const Command& c : kCommands) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

void usage(FILE* out) {
    std::fprintf(out, "usage: directorctl COMMAND [ARGS]\n\ncommands:\n");
    for (const Command& c : kCommands) {
        const std::string synopsis = std::string(c.name) + " " + std::string(c.args);
        std::fprintf(out, "  %-26s %.*s\n", synopsis.c_str(), static_cast<int>(c.summary.size()),
                     c.summary.data());
    }
}

int cmd_help(std::span<char*> args) {
    if (args.empty()) {
        usage(stdout);
        return kExitOk;
    }
    const Command* c = find_command(args[0]);
    if (c == nullptr) {
        std::fprintf(stderr, "directorctl: unknown command '%s'\n", args[0]);
        usage(stderr);
        return kExitFatal;
    }
    std::printf("usage: directorctl %.*s %.*s\n\n%.*s\n%.*s", static_cast<int>(c->name.size()),
                c->name.data(), static_cast<int>(c->args.size()), c->args.data(),
                static_cast<int>(c->summary.size()), c->summary.data(),
                static_cast<int>(c->details.size()), c->details.data());
    return kExitOk;
}

int cmd_import_keepalived(std::span<char*> args) {
    if (args.size() != 1) {
        std::fprintf(stderr, "usage: directorctl import-keepalived FILE\n");
        return kExitFatal;
    }
    const std::string path = args[0];
    const director::config::ImportResult r = director::config::import_keepalived_file(path);
    if (!r.errors.empty()) {
        for (const auto& e : r.errors) {
            std::fprintf(stderr, "%s\n", e.to_string().c_str());
        }
        std::fprintf(stderr, "directorctl: %s: not imported\n", path.c_str());
        return kExitFatal;
    }
    const std::string yaml = director::config::to_yaml(r.config);
    std::printf(
        "# Imported from %s by `directorctl import-keepalived`.\n"
        "# Review the notes printed with it: port devices and addresses need filling in.\n"
        "\n%s",
        path.c_str(), yaml.c_str());
    std::fflush(stdout);
    for (const std::string& n : r.notes) {
        std::fprintf(stderr, "note: %s\n", n.c_str());
    }
    for (const auto& u : r.unsupported) {
        std::fprintf(stderr, "%s\n", u.to_string().c_str());
    }
    // The output must load as it is; if it does not, say why rather than leave the user to
    // discover it at `director -t`.
    const auto check = director::config::load_string(yaml, "<imported>");
    if (!check) {
        for (const auto& e : check.error()) {
            std::fprintf(stderr, "directorctl: the imported configuration is not valid: %s\n",
                         e.to_string().c_str());
        }
        return kExitReview;
    }
    if (!r.unsupported.empty()) {
        std::fprintf(stderr, "directorctl: %s: %zu construct(s) not imported (listed above)\n",
                     path.c_str(), r.unsupported.size());
        return kExitReview;
    }
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return kExitFatal;
    }
    const std::string_view name = argv[1];
    if (name == "-h" || name == "--help") {
        usage(stdout);
        return kExitOk;
    }
    const Command* c = find_command(name);
    if (c == nullptr) {
        std::fprintf(stderr, "directorctl: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return kExitFatal;
    }
    return c->run(std::span<char*>(argv + 2, static_cast<size_t>(argc - 2)));
}

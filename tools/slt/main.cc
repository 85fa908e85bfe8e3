// surge-slt: runs sqllogictest files against SurgeDB and reports passed/failed/skipped per file.
//
//   surge-slt [--verbose] [--max-failures-shown N] [--dialect FILE] FILE_OR_DIR...
//
// Directories expand recursively to their *.test files in sorted order. The last line printed is
// always "N passed, N failed, N skipped", so scripts can read the totals from it; the exit status
// is 0 when nothing failed. Skipped records are those guarded off for this engine by
// skipif/onlyif, and, with --dialect, those a documented dialect rule covers
// (tests/sqllogictest-dialect.txt, explained in docs/sql-compatibility.md); a count per rule is
// printed before the totals.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "slt/slt_runner.h"

namespace {

namespace fs = std::filesystem;
using surge::slt::FileResult;

constexpr size_t kDefaultFailuresShown = 5;

struct Options {
    bool verbose = false;
    bool max_shown_set = false;
    size_t max_shown = kDefaultFailuresShown;
    std::string dialect;
    std::vector<std::string> inputs;
};

/// A test file to run: where to open it and its name relative to the directory argument.
struct Input {
    std::string path;
    std::string key;
};

void Usage() { std::cerr << "usage: surge-slt [--verbose] [--max-failures-shown N] [--dialect FILE] FILE_OR_DIR...\n"; }

bool ParseArgs(int argc, char** argv, Options* opts) {
    for (int i = 1; i < argc; i++) {
        std::string_view arg = argv[i];
        auto value = [&](std::string* out) {
            if (i + 1 >= argc) {
                std::cerr << "surge-slt: " << arg << " needs a value\n";
                return false;
            }
            *out = argv[++i];
            return true;
        };
        if (arg == "--verbose" || arg == "-v") {
            opts->verbose = true;
        } else if (arg == "--max-failures-shown") {
            std::string n;
            if (!value(&n)) return false;
            char* end = nullptr;
            long v = std::strtol(n.c_str(), &end, 10);
            if (n.empty() || *end != '\0' || v < 0) {
                std::cerr << "surge-slt: --max-failures-shown needs a non-negative integer\n";
                return false;
            }
            opts->max_shown = static_cast<size_t>(v);
            opts->max_shown_set = true;
        } else if (arg == "--dialect") {
            if (!value(&opts->dialect)) return false;
        } else if (arg == "--help" || arg == "-h") {
            Usage();
            std::exit(0);
        } else if (arg.starts_with("-")) {
            std::cerr << "surge-slt: unknown option " << arg << "\n";
            return false;
        } else {
            opts->inputs.emplace_back(arg);
        }
    }
    if (opts->inputs.empty()) {
        std::cerr << "surge-slt: no test files given\n";
        return false;
    }
    // --verbose shows every kept failure unless a limit was asked for.
    if (opts->verbose && !opts->max_shown_set) opts->max_shown = SIZE_MAX;
    return true;
}

bool ExpandInputs(const std::vector<std::string>& args, std::vector<Input>* out) {
    for (const std::string& arg : args) {
        std::error_code ec;
        fs::path root(arg);
        if (fs::is_regular_file(root, ec)) {
            out->push_back(Input{arg, root.generic_string()});
            continue;
        }
        if (!fs::is_directory(root, ec)) {
            std::cerr << "surge-slt: " << arg << ": no such file or directory\n";
            return false;
        }
        std::vector<Input> found;
        for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (!it->is_regular_file(ec) || it->path().extension() != ".test") continue;
            found.push_back(Input{it->path().string(), it->path().lexically_relative(root).generic_string()});
        }
        if (ec) {
            std::cerr << "surge-slt: " << arg << ": " << ec.message() << "\n";
            return false;
        }
        std::sort(found.begin(), found.end(), [](const Input& a, const Input& b) { return a.key < b.key; });
        out->insert(out->end(), found.begin(), found.end());
    }
    return true;
}

void PrintBlock(std::string_view title, const std::string& text) {
    std::cout << "    " << title << ":\n";
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) std::cout << "      " << line << "\n";
}

void PrintFailures(const FileResult& r, size_t max_shown) {
    size_t shown = std::min(max_shown, r.failures.size());
    for (size_t i = 0; i < shown; i++) {
        const surge::slt::Failure& f = r.failures[i];
        std::cout << "  " << r.path << ":" << f.line << ": " << f.message << "\n";
        if (!f.sql.empty()) PrintBlock("sql", f.sql);
        if (!f.expected.empty()) PrintBlock("expected", f.expected);
        if (!f.actual.empty()) PrintBlock("got", f.actual);
    }
    size_t hidden = static_cast<size_t>(r.failed) - shown;
    if (hidden > 0) std::cout << "  ... " << hidden << " more failures not shown\n";
}

}  // namespace

int main(int argc, char** argv) {
    Options opts;
    if (!ParseArgs(argc, argv, &opts)) {
        Usage();
        return 2;
    }
    std::vector<Input> inputs;
    if (!ExpandInputs(opts.inputs, &inputs)) return 2;
    surge::slt::RunOptions run_options;
    if (!opts.dialect.empty()) {
        try {
            run_options.dialect = surge::slt::ReadDialectRules(opts.dialect);
        } catch (const std::exception& e) {
            std::cerr << "surge-slt: " << e.what() << "\n";
            return 2;
        }
    }
    run_options.max_failures_kept = opts.max_shown == SIZE_MAX ? 1000 : opts.max_shown;

    long long passed = 0, failed = 0, skipped = 0;
    std::map<std::string, long long> dialect_skips;
    for (const Input& input : inputs) {
        FileResult r = surge::slt::RunFile(input.path, run_options);
        std::cout << r.path << ": " << r.passed << " passed, " << r.failed << " failed, " << r.skipped << " skipped\n";
        if (opts.verbose) {
            for (const std::string& note : r.notes) std::cout << "  note: " << note << "\n";
        }
        PrintFailures(r, opts.max_shown);
        std::cout.flush();
        passed += r.passed;
        failed += r.failed;
        skipped += r.skipped;
        for (const auto& [rule, n] : r.dialect_skips) dialect_skips[rule] += n;
    }

    for (const auto& [rule, n] : dialect_skips)
        std::cout << "skipped as dialect difference " << rule << ": " << n << "\n";
    std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
    return failed == 0 ? 0 : 1;
}

// surge-slt: runs sqllogictest files against SurgeDB and reports passed/failed/skipped per file.
//
//   surge-slt [--verbose] [--max-failures-shown N] [--baseline FILE] [--write-baseline FILE]
//             FILE_OR_DIR...
//
// Directories expand recursively to their *.test files in sorted order. The last line printed is
// always "N passed, N failed, N skipped", so scripts can read the totals from it.
//
// The shared corpus is worked through over time, so a plain "no failures" exit status would
// never be green. A baseline records, per file, how many records passed: lines of
// "<path> <passed>", the path relative to the directory argument it was found under (or as given,
// for a file argument). With --baseline the exit status is 0 when no file passes fewer records
// than its baseline says; files missing from the baseline count as 0. --write-baseline records
// the current counts (after --baseline was checked, so both may name the same file).
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
    std::string baseline;
    std::string write_baseline;
    std::vector<std::string> inputs;
};

/// A test file to run: where to open it and its key in the baseline.
struct Input {
    std::string path;
    std::string key;
};

void Usage() {
    std::cerr << "usage: surge-slt [--verbose] [--max-failures-shown N] [--baseline FILE] [--write-baseline FILE] "
                 "FILE_OR_DIR...\n";
}

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
        } else if (arg == "--baseline") {
            if (!value(&opts->baseline)) return false;
        } else if (arg == "--write-baseline") {
            if (!value(&opts->write_baseline)) return false;
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

// The path is everything before the last word, so paths with spaces survive.
bool ReadBaseline(const std::string& file, std::map<std::string, int>* out) {
    std::ifstream in(file);
    if (!in) {
        std::cerr << "surge-slt: cannot read baseline " << file << "\n";
        return false;
    }
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        line_no++;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
        size_t end = line.find_last_not_of(" \t");
        size_t sep = line.find_last_of(" \t", end);
        char* num_end = nullptr;
        std::string count = sep == std::string::npos ? "" : line.substr(sep + 1, end - sep);
        long v = std::strtol(count.c_str(), &num_end, 10);
        size_t path_end = sep == std::string::npos ? std::string::npos : line.find_last_not_of(" \t", sep);
        if (count.empty() || *num_end != '\0' || v < 0 || path_end == std::string::npos) {
            std::cerr << "surge-slt: " << file << ":" << line_no << ": expected '<path> <passed count>'\n";
            return false;
        }
        (*out)[line.substr(0, path_end + 1)] = static_cast<int>(v);
    }
    return true;
}

bool WriteBaseline(const std::string& file, const std::vector<Input>& inputs, const std::vector<FileResult>& results) {
    std::map<std::string, int> counts;
    for (size_t i = 0; i < inputs.size(); i++) counts[inputs[i].key] = results[i].passed;
    std::ofstream out(file, std::ios::trunc);
    out << "# surge-slt baseline: <test file relative to its directory argument> <records passed>\n";
    out << "# A run with --baseline fails if a file passes fewer records than listed here.\n";
    for (const auto& [key, passed] : counts) out << key << " " << passed << "\n";
    out.flush();
    if (!out) {
        std::cerr << "surge-slt: cannot write baseline " << file << "\n";
        return false;
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
    std::map<std::string, int> baseline;
    if (!opts.baseline.empty() && !ReadBaseline(opts.baseline, &baseline)) return 2;

    surge::slt::RunOptions run_options;
    run_options.max_failures_kept = opts.max_shown == SIZE_MAX ? 1000 : opts.max_shown;

    std::vector<FileResult> results;
    long long passed = 0, failed = 0, skipped = 0;
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
        r.failures.clear();  // the details were printed; keep only the counts
        r.failures.shrink_to_fit();
        r.notes.clear();
        results.push_back(std::move(r));
    }

    int status = failed == 0 ? 0 : 1;
    if (!opts.baseline.empty()) {
        int regressions = 0, improved = 0;
        for (size_t i = 0; i < inputs.size(); i++) {
            auto it = baseline.find(inputs[i].key);
            int expected = it == baseline.end() ? 0 : it->second;
            if (results[i].passed < expected) {
                regressions++;
                std::cout << "REGRESSION " << inputs[i].key << ": " << results[i].passed << " passed, baseline "
                          << expected << "\n";
            } else if (results[i].passed > expected) {
                improved++;
            }
        }
        std::cout << "baseline " << opts.baseline << ": " << regressions << " regressions, " << improved
                  << " files above baseline" << (improved > 0 ? " (update it with --write-baseline)" : "") << "\n";
        status = regressions == 0 ? 0 : 1;
    }
    if (!opts.write_baseline.empty()) {
        if (!WriteBaseline(opts.write_baseline, inputs, results)) {
            status = 2;
        } else if (opts.baseline.empty()) {
            status = 0;  // recording a baseline is not a test run: failures are the point of recording
        }
    }
    std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
    return status;
}

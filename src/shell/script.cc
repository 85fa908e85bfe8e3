#include "shell/script.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace surge::shell {
namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Skips whitespace and comments from `i`; returns the index of the first other character.
size_t SkipBlank(std::string_view s, size_t i) {
    while (i < s.size()) {
        if (IsSpace(s[i])) {
            ++i;
        } else if (s.compare(i, 2, "--") == 0) {
            size_t nl = s.find('\n', i);
            i = nl == std::string_view::npos ? s.size() : nl + 1;
        } else if (s.compare(i, 2, "/*") == 0) {
            size_t end = s.find("*/", i + 2);
            i = end == std::string_view::npos ? s.size() : end + 2;
        } else {
            break;
        }
    }
    return i;
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

bool IsLineCommand(std::string_view word) {
    static constexpr std::array<std::string_view, 9> kCommands = {"help", "quit",        "exit", "show", "describe",
                                                                  "desc", "explainproc", "file", "set"};
    std::string lower(word);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return std::find(kCommands.begin(), kCommands.end(), lower) != kCommands.end();
}

// The first word's start and end in `text`.
static std::pair<size_t, size_t> FirstWordSpan(std::string_view text) {
    size_t i = SkipBlank(text, 0), j = i;
    while (j < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_' || text[j] == '@' || text[j] == '.')) {
        ++j;
    }
    return {i, j};
}

std::string FirstWord(std::string_view text) {
    auto [i, j] = FirstWordSpan(text);
    return std::string(text.substr(i, j - i));
}

std::string AfterFirstWord(std::string_view text) { return std::string(Trim(text.substr(FirstWordSpan(text).second))); }

bool IsBlank(std::string_view text) { return SkipBlank(text, 0) == text.size(); }

std::vector<Statement> Splitter::AddLine(std::string_view line) {
    ++line_;
    std::vector<Statement> out;
    AddText(line, &out);
    return out;
}

void Splitter::AddText(std::string_view line, std::vector<Statement>* out) {
    if (buf_.empty()) {
        if (IsBlank(line)) return;
        if (IsLineCommand(FirstWord(line))) {  // up to the end of the line or a `;`
            size_t semi = line.find(';');
            std::string_view cmd = Trim(line.substr(0, semi));
            if (!cmd.empty()) out->push_back({std::string(cmd), line_});
            if (semi != std::string_view::npos) AddText(line.substr(semi + 1), out);
            return;
        }
        start_line_ = line_;
    }
    buf_.append(line);
    buf_.push_back('\n');
    // Each `;` might end the statement; sqlite3_complete says whether the text up to it is whole.
    // The statement started on an earlier line only if those lines did not complete it, so every
    // candidate is on this line.
    size_t p = buf_.find(';', buf_.size() - line.size() - 1);
    while (p != std::string::npos) {
        std::string prefix = buf_.substr(0, p + 1);
        if (!sqlite3_complete(prefix.c_str())) {
            p = buf_.find(';', p + 1);
            continue;
        }
        prefix.pop_back();  // the `;`
        if (!IsBlank(prefix)) out->push_back({std::string(Trim(prefix)), start_line_});
        buf_.erase(0, p + 1);
        start_line_ = line_;
        if (IsBlank(buf_)) break;
        // What follows on this line starts afresh (it may be a shell command).
        std::string rest = std::move(buf_);
        buf_.clear();
        rest.pop_back();  // the newline added above
        AddText(rest, out);
        return;
    }
    if (IsBlank(buf_)) buf_.clear();
}

std::optional<Statement> Splitter::Finish() {
    if (buf_.empty()) return std::nullopt;
    Statement s{std::string(Trim(buf_)), start_line_};
    buf_.clear();
    return s;
}

bool ForEachStatement(std::istream& in, const std::function<bool(const Statement&)>& each) {
    Splitter splitter;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        for (const auto& st : splitter.AddLine(line)) {
            if (!each(st)) return false;
        }
    }
    auto last = splitter.Finish();
    return !last || each(*last);
}

}  // namespace surge::shell

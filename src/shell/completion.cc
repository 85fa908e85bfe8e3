#include "shell/completion.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace surge::shell {
namespace {

const std::vector<std::string>& Keywords() {
    static const std::vector<std::string> kWords = {
        // SQL keywords (the tokenizer's)
        "ADD", "ALL", "ALTER", "AND", "AS", "ASC", "ASSUMEUNIQUE", "BETWEEN", "BY", "CASE", "CAST", "CLASS", "COLUMN",
        "CONSTRAINT", "CREATE", "CROSS", "DEFAULT", "DELETE", "DESC", "DISTINCT", "DROP", "ELSE", "END", "ESCAPE",
        "EXCEPT", "EXISTS", "FALSE", "FIRST", "FROM", "FULL", "GROUP", "HASH", "HAVING", "IF", "IN", "INDEX", "INNER",
        "INSERT", "INTERSECT", "INTO", "IS", "JOIN", "KEY", "LAST", "LEFT", "LIBRARY", "LIKE", "LIMIT", "MATERIALIZED",
        "NATURAL", "NOT", "NULL", "NULLS", "OFFSET", "ON", "OR", "ORDER", "OUTER", "OVER", "PARAMETER", "PARTITION",
        "PRIMARY", "PROCEDURE", "REPLACE", "RIGHT", "SELECT", "SET", "TABLE", "THEN", "TRUE", "TRUNCATE", "UNION",
        "UNIQUE", "UPDATE", "UPSERT", "USING", "VALUES", "VIEW", "WHEN", "WHERE", "WITH",
        // types
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DECIMAL", "VARCHAR", "VARBINARY", "TIMESTAMP", "BOOLEAN",
        // functions (docs/functions.md)
        "ABS", "AVG", "CEILING", "CHAR_LENGTH", "COALESCE", "CONCAT", "COUNT", "CURRENT_TIMESTAMP", "DATEADD",
        "DENSE_RANK", "EXP", "EXTRACT", "FLOOR", "LAG", "LEAD", "LN", "LOWER", "MAX", "MIN", "MOD", "NOW", "NULLIF",
        "POSITION", "POWER", "RANK", "ROUND", "ROW_NUMBER", "SINCE_EPOCH", "SQRT", "SUBSTRING", "SUM", "TIME_WINDOW",
        "TO_TIMESTAMP", "TRIM", "UPPER"};
    return kWords;
}

std::string Lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && Lower(s.substr(0, prefix.size())) == Lower(prefix);
}

// The words of `text`: runs of letters, digits, _ @ . (strings and punctuation dropped).
std::vector<std::string> Words(std::string_view text) {
    std::vector<std::string> out;
    for (size_t i = 0; i < text.size();) {
        const char c = text[i];
        if (c == '\'') {  // skip a string literal
            size_t end = text.find('\'', i + 1);
            i = end == std::string_view::npos ? text.size() : end + 1;
            continue;
        }
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@' || c == '.') {
            size_t j = i;
            while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_' ||
                                       text[j] == '@' || text[j] == '.')) {
                ++j;
            }
            out.emplace_back(text.substr(i, j - i));
            i = j;
            continue;
        }
        ++i;
    }
    return out;
}

// The relation `qualifier` stands for: a relation of that name, or one it aliases in `words`
// ("FROM votes v", "JOIN votes AS v").
std::string ResolveQualifier(const CatalogNames& names, const std::vector<std::string>& words,
                             std::string_view qualifier) {
    auto relation = [&](std::string_view w) -> const std::string* {
        for (const auto& r : names.relations) {
            if (Lower(r) == Lower(w)) return &r;
        }
        return nullptr;
    };
    if (const std::string* r = relation(qualifier)) return *r;
    for (size_t k = 0; k + 1 < words.size(); ++k) {
        const std::string* r = relation(words[k]);
        if (!r) continue;
        if (Lower(words[k + 1]) == Lower(qualifier)) return *r;
        if (k + 2 < words.size() && Lower(words[k + 1]) == "as" && Lower(words[k + 2]) == Lower(qualifier)) return *r;
    }
    return "";
}

}  // namespace

const std::vector<std::string>& CommandWords() {
    static const std::vector<std::string> kCommands = {"describe", "exec", "exit", "explain", "explainproc",
                                                       "file",     "help", "quit", "set",     "show"};
    return kCommands;
}

Completions Complete(const CatalogNames& names, std::string_view before, std::string_view word) {
    Completions out;
    std::set<std::string> found;
    const bool lower_case = std::none_of(word.begin(), word.end(), [](unsigned char c) { return std::isupper(c); });
    auto offer = [&](std::string_view candidate) {
        if (StartsWithNoCase(candidate, word)) found.emplace(candidate);
    };
    auto offer_keyword = [&](const std::string& k) { offer(lower_case ? Lower(k) : k); };
    auto offer_relations = [&] {
        for (const auto& r : names.relations) offer(r);
    };
    const std::vector<std::string> words = Words(before);
    const std::string first = words.empty() ? "" : Lower(words[0]);
    const std::string prev = words.empty() ? "" : Lower(words.back());
    auto finish = [&] {
        out.words.assign(found.begin(), found.end());
        return out;
    };

    if (words.empty()) {
        for (const auto& c : CommandWords()) {
            std::string upper = c;
            std::transform(upper.begin(), upper.end(), upper.begin(),
                           [](unsigned char ch) { return std::toupper(ch); });
            offer(lower_case ? c : upper);
        }
        for (const char* k : {"SELECT", "INSERT", "UPDATE", "UPSERT", "DELETE", "CREATE", "DROP", "ALTER", "PARTITION",
                              "TRUNCATE", "WITH", "REPLACE"}) {
            offer_keyword(k);
        }
        return finish();
    }
    if (words.size() == 1) {
        if (first == "describe" || first == "desc") {
            offer_relations();
            return finish();
        }
        if (first == "exec" || first == "execute" || first == "explainproc") {
            for (const auto& p : names.procedures) offer(p);
            return finish();
        }
        if (first == "show") {
            for (const char* t : {"tables", "views", "streams", "procedures", "partitions"}) offer(t);
            return finish();
        }
        if (first == "set") {
            for (const char* t : {"output", "timing", "maxwidth"}) offer(t);
            return finish();
        }
        if (first == "help") {
            for (const auto& c : CommandWords()) offer(c);
            return finish();
        }
    }
    if (first == "file") {
        if (words.size() == 1) offer("-batch");
        out.filenames = true;
        return finish();
    }
    if (first == "set" && words.size() == 2) {
        const std::string what = Lower(words[1]);
        if (what == "output") {
            for (const char* f : {"table", "csv", "tsv", "json"}) offer(f);
        } else if (what == "timing") {
            for (const char* f : {"on", "off"}) offer(f);
        }
        return finish();
    }
    if (first == "exec" || first == "execute" || first == "explainproc" || first == "show" || first == "set" ||
        first == "describe" || first == "desc" || first == "help") {
        return finish();  // arguments: nothing to offer
    }
    if (size_t dot = word.rfind('.'); dot != std::string_view::npos) {
        // An alias defined later in the statement (SELECT p.| FROM people p) is not known yet:
        // then the columns of every relation.
        const std::string relation = ResolveQualifier(names, words, word.substr(0, dot));
        for (const auto& c : names.columns) {
            if (relation.empty() || Lower(c.relation) == Lower(relation)) {
                offer(std::string(word.substr(0, dot + 1)) + c.name);
            }
        }
        return finish();
    }
    const bool index_on = prev == "on" && words.size() >= 3 && Lower(words[words.size() - 3]) == "index";
    if (prev == "from" || prev == "join" || prev == "into" || prev == "update" || prev == "table" ||
        prev == "truncate" || index_on) {
        offer_relations();
        return finish();
    }
    for (const auto& k : Keywords()) offer_keyword(k);
    offer_relations();
    // Columns of the relations the statement names; of every relation if it names none yet.
    std::set<std::string> named;
    for (const auto& w : words) {
        for (const auto& r : names.relations) {
            if (Lower(r) == Lower(w)) named.insert(Lower(r));
        }
    }
    for (const auto& c : names.columns) {
        if (named.empty() || named.count(Lower(c.relation))) offer(c.name);
    }
    return finish();
}

}  // namespace surge::shell

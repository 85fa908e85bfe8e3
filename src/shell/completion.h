// Tab completion: what may follow, from the statement so far and the schema's names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace surge::shell {

/// The names completion offers, read from @SystemCatalog.
struct CatalogNames {
    std::vector<std::string> relations;  ///< tables and views
    struct Column {
        std::string relation, name;
    };
    std::vector<Column> columns;
    std::vector<std::string> procedures;  ///< user, CRUD and system procedures
};

struct Completions {
    std::vector<std::string> words;  ///< sorted, distinct
    bool filenames = false;          ///< complete a file name instead (after `file`)
};

/// What may complete `word` (the partial word under the cursor), given `before`: the statement's
/// text before that word, earlier lines of a multi-line statement included. Keywords follow the
/// case of `word` (lower case while it has no capital letter); schema names are as defined.
/// After `exec`/`explainproc`: procedures; after `describe`, FROM, JOIN, INTO, UPDATE, TABLE:
/// tables and views; `t.` or `alias.`: that table's columns (every
/// relation's while the alias is not defined yet); `show`/`set`: their arguments;
/// otherwise keywords, functions, tables, views and columns.
Completions Complete(const CatalogNames& names, std::string_view before, std::string_view word);

/// The shell's commands, for completion and help.
const std::vector<std::string>& CommandWords();

}  // namespace surge::shell

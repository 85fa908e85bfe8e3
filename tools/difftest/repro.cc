// Running a failing check on its own, shrinking it, and printing it as a sqllogictest script.
//
// The reducer is greedy: it lists every edit of the case it knows (drop a statement, a table, a
// row, a column, an index, a clause, a set-operation arm, a FROM item; replace an expression by
// one of its operands or by a literal), tries them in order on a copy, and keeps each that still
// fails for the same reason, until a whole round changes nothing. The edits come in three levels
// (see Edits), each run to a fixed point before the next, so that the many small edits run on an
// already small case.
#include "difftest/repro.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>

#include "difftest/known_bugs.h"
#include "slt/slt_script.h"

namespace surge::difftest {
namespace {

using Edit = std::function<void()>;

struct Slots {
    std::vector<Select*> selects;
    std::vector<NodePtr*> nodes;
};

void CollectSelect(Select& s, Slots* out);

void CollectNode(NodePtr* slot, Slots* out) {
    out->nodes.push_back(slot);
    for (Part& p : (*slot)->parts) {
        if (p.expr) CollectNode(&p.expr, out);
        if (p.select) CollectSelect(*p.select, out);
    }
}

void CollectSelect(Select& s, Slots* out) {
    out->selects.push_back(&s);
    for (auto& cte : s.ctes) CollectSelect(*cte.second, out);
    for (Core& c : s.cores) {
        for (FromItem& f : c.from) {
            if (f.derived) CollectSelect(*f.derived, out);
            if (f.on) CollectNode(&f.on, out);
        }
        // GROUP BY keys are left alone: the select list repeats them and must match.
        for (NodePtr& item : c.items) CollectNode(&item, out);
        if (c.where) CollectNode(&c.where, out);
        if (c.having) CollectNode(&c.having, out);
    }
}

// A plain literal of kind k, the simplest replacement for an expression.
NodePtr SimpleLiteral(Kind k) {
    switch (k) {
        case Kind::kInt:
            return MakeLeaf(k, "1");
        case Kind::kFloat:
            return MakeLeaf(k, "0.5");
        case Kind::kStr:
            return MakeLeaf(k, "'a'");
        case Kind::kBool:
            return MakeLeaf(k, "(1 = 1)");
    }
    return MakeLeaf(k, "NULL");
}

void SelectEdits(Select* s, std::vector<Edit>* e) {
    if (s->limit >= 0) e->push_back([s] { s->limit = s->offset = -1; });
    if (s->offset >= 0) e->push_back([s] { s->offset = -1; });
    if (!s->order.empty() && s->limit < 0) e->push_back([s] { s->order.clear(); });
    for (size_t i = 0; i < s->ctes.size(); i++) e->push_back([s, i] { s->ctes.erase(s->ctes.begin() + i); });
    if (s->cores.size() > 1) {
        for (size_t i = 0; i < s->cores.size(); i++) {
            e->push_back([s, i] {
                s->cores.erase(s->cores.begin() + i);
                s->ops.erase(s->ops.begin() + (i == 0 ? 0 : i - 1));
            });
        }
    }
    for (Core& core : s->cores) {
        Core* c = &core;
        if (c->distinct) e->push_back([c] { c->distinct = false; });
        if (c->where) e->push_back([c] { c->where = nullptr; });
        if (c->having) e->push_back([c] { c->having = nullptr; });
        if (!c->group_by.empty()) {
            e->push_back([c] {
                c->group_by.clear();
                c->having = nullptr;
            });
        }
        for (size_t j = 0; j < c->from.size() && c->from.size() > 1; j++) {
            e->push_back([c, j] {
                c->from.erase(c->from.begin() + j);
                c->from[0].join = JoinType::kFirst;
                c->from[0].on = nullptr;
            });
        }
        for (FromItem& item : c->from) {
            FromItem* f = &item;
            if (f->join == JoinType::kLeft || f->join == JoinType::kRight || f->join == JoinType::kFull) {
                e->push_back([f] { f->join = JoinType::kInner; });
            }
            if (f->on) {
                e->push_back([f] {
                    f->join = JoinType::kCross;
                    f->on = nullptr;
                });
            }
        }
        if (s->cores.size() == 1 && s->order.empty() && c->items.size() > 1) {
            for (size_t j = 0; j < c->items.size(); j++) {
                e->push_back([s, c, j] {
                    c->items.erase(c->items.begin() + j);
                    s->types.erase(s->types.begin() + j);
                });
            }
        }
    }
}

// Replacements only go from compound expressions to leaves and from columns to literals, so
// no two edits can undo each other.
void NodeEdits(NodePtr* slot, std::vector<Edit>* e) {
    const Node& n = **slot;
    for (const Part& p : n.parts) {
        if (!p.expr || p.expr->kind != n.kind) continue;
        NodePtr child = p.expr;
        e->push_back([slot, child] {
            NodePtr c = Clone(child);
            c->bare = false;  // its parent's operator may bind differently
            *slot = c;
        });
    }
    if (n.compound || n.column) {
        e->push_back([slot, k = n.kind] { *slot = MakeLeaf(k, "NULL"); });
        NodePtr lit = SimpleLiteral(n.kind);
        if (Render(*lit, Dialect::kSurge) != Render(n, Dialect::kSurge)) e->push_back([slot, lit] { *slot = lit; });
    }
}

void DropColumn(Table* t, int col) {
    t->columns.erase(t->columns.begin() + col);
    for (auto& row : t->rows) row.erase(row.begin() + col);
    if (t->primary_key == col) t->primary_key = -1;
    if (t->primary_key > col) t->primary_key--;
    std::vector<std::vector<int>> kept;
    for (std::vector<int> key : t->indexes) {
        bool uses = false;
        for (int& k : key) {
            uses = uses || k == col;
            if (k > col) k--;
        }
        if (!uses) kept.push_back(key);
    }
    t->indexes = std::move(kept);
}

void CollectDml(Dml& d, Slots* out) {
    for (auto& set : d.sets) CollectNode(&set.second, out);
    if (d.where) CollectNode(&d.where, out);
}

// The edits of one level: 0 statements, tables, halves of the data and query clauses; 1
// expressions; 2 single rows, indexes and columns. Lower levels remove more per run.
std::vector<Edit> Edits(Case& c, int level) {
    std::vector<Edit> e;
    Database* db = &c.db;
    Slots slots;
    if (c.query) CollectSelect(*c.query, &slots);
    for (Dml& d : db->dml) CollectDml(d, &slots);
    if (level == 0) {
        size_t keep_last = c.query ? 0 : 1;
        for (size_t i = 0; i + keep_last < db->dml.size(); i++) {
            e.push_back([db, i] { db->dml.erase(db->dml.begin() + i); });
        }
        for (Dml& dml : db->dml) {
            Dml* d = &dml;
            if (d->where) e.push_back([d] { d->where = nullptr; });
            for (size_t i = 0; i < d->sets.size() && d->sets.size() > 1; i++) {
                e.push_back([d, i] { d->sets.erase(d->sets.begin() + i); });
            }
        }
        for (size_t t = 0; t < db->tables.size(); t++)
            e.push_back([db, t] { db->tables.erase(db->tables.begin() + t); });
        for (Table& table : db->tables) {
            Table* t = &table;
            size_t n = t->rows.size();
            if (n > 0) e.push_back([t] { t->rows.clear(); });
            if (n >= 4) {
                e.push_back([t, n] { t->rows.erase(t->rows.begin(), t->rows.begin() + n / 2); });
                e.push_back([t, n] { t->rows.erase(t->rows.begin() + n / 2, t->rows.end()); });
            }
        }
        for (Select* s : slots.selects) SelectEdits(s, &e);
    } else if (level == 1) {
        for (NodePtr* slot : slots.nodes) NodeEdits(slot, &e);
    } else {
        for (Table& table : db->tables) {
            Table* t = &table;
            for (size_t r = 0; r < t->rows.size(); r++) e.push_back([t, r] { t->rows.erase(t->rows.begin() + r); });
            for (size_t i = 0; i < t->indexes.size(); i++) {
                e.push_back([t, i] { t->indexes.erase(t->indexes.begin() + i); });
            }
            if (t->primary_key >= 0) e.push_back([t] { t->primary_key = -1; });
            for (int col = 0; col < static_cast<int>(t->columns.size()) && t->columns.size() > 1; col++) {
                e.push_back([t, col] { DropColumn(t, col); });
            }
        }
    }
    return e;
}

bool TripsSqliteBug(const Case& c) {
    if (c.query && HitsKnownSqliteBug(*c.query)) return true;
    return std::any_of(c.db.dml.begin(), c.db.dml.end(), [](const Dml& d) { return HitsKnownSqliteBug(d); });
}

std::string Joined(const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& s : v) out += s + ";\n";
    return out;
}

char TypeLetter(Kind k) { return k == Kind::kFloat ? 'R' : k == Kind::kStr ? 'T' : 'I'; }

}  // namespace

Case CloneCase(const Case& c) {
    Case out{c.db, Clone(c.query)};
    for (Dml& d : out.db.dml) d = Clone(d);
    return out;
}

std::vector<std::string> CaseScript(const Case& c, Dialect d) {
    std::vector<std::string> out = c.db.LoadScript();
    for (const Dml& dml : c.db.dml) out.push_back(Render(dml, d));
    if (c.query) out.push_back(Render(*c.query, d));
    return out;
}

Judgement RunCase(const Case& c, bool run_surge, Outcome* surge_out, Outcome* sqlite_out) {
    std::unique_ptr<SurgeBackend> surge = run_surge ? std::make_unique<SurgeBackend>() : nullptr;
    SqliteBackend sqlite;
    auto setup_failure = [](const std::string& sql, const Outcome& a, const Outcome& b) {
        bool surge_failed = !a.ok && !a.error.empty();
        return Judgement{Verdict::kFailed, surge_failed ? "setup: SurgeDB error " + a.sqlstate : "setup: SQLite error",
                         sql + "\n" + (surge_failed ? a.error : b.error)};
    };
    auto run_surge_sql = [&](const std::string& sql) {
        if (surge) return surge->Run(sql);
        Outcome skipped;
        skipped.ok = true;
        return skipped;
    };
    for (const std::string& sql : c.db.LoadScript()) {
        Outcome a = run_surge_sql(sql);
        Outcome b = sqlite.Run(sql);
        if (!a.ok || !b.ok) return setup_failure(sql, a, b);
    }
    size_t setup_dml = c.query ? c.db.dml.size() : c.db.dml.size() - 1;
    for (size_t i = 0; i < setup_dml; i++) {
        Outcome a = run_surge_sql(Render(c.db.dml[i], Dialect::kSurge));
        // SurgeDB undid a statement it rejects for a dialect reason; SQLite must not run it either.
        if (!a.ok && !DialectRule(a.sqlstate).empty()) continue;
        Outcome b = a.ok ? sqlite.Run(Render(c.db.dml[i], Dialect::kSqlite)) : Outcome{};
        if (!a.ok || !b.ok) return setup_failure(Render(c.db.dml[i], Dialect::kSurge), a, b);
    }
    std::string surge_sql = c.query ? Render(*c.query, Dialect::kSurge) : Render(c.db.dml.back(), Dialect::kSurge);
    std::string sqlite_sql = c.query ? Render(*c.query, Dialect::kSqlite) : Render(c.db.dml.back(), Dialect::kSqlite);
    *surge_out = surge ? surge->Run(surge_sql) : Outcome{};
    *sqlite_out = sqlite.Run(sqlite_sql);
    return Judge(*surge_out, *sqlite_out, c.query && c.query->TotallyOrdered());
}

namespace {
unsigned timeout_seconds = 10;
}  // namespace

unsigned TimeoutSeconds() { return timeout_seconds; }
void SetTimeoutSeconds(unsigned seconds) { timeout_seconds = seconds; }

std::string CrashReason(int sig) {
    if (sig == SIGALRM) return "timeout (" + std::to_string(timeout_seconds) + " s)";
    return "SurgeDB crash (signal " + std::to_string(sig) + ")";
}

std::string IsolatedFailure(const Case& c) {
    int fds[2];
    if (pipe(fds) != 0) return "pipe failed";
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        alarm(timeout_seconds);
        Outcome a, b;
        Judgement j = RunCase(c, true, &a, &b);
        std::string reason = j.verdict == Verdict::kFailed ? j.reason : "";
        ssize_t ignored = write(fds[1], reason.data(), reason.size());
        (void)ignored;
        _exit(0);  // no atexit handlers or stdio flushes: they belong to the parent
    }
    close(fds[1]);
    std::string reason;
    char buf[256];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) reason.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return CrashReason(WTERMSIG(status));
    return reason;
}

Case Reduce(const Case& c, const std::string& reason, int max_runs, int* runs_used) {
    Case best = CloneCase(c);
    std::string best_text = Joined(CaseScript(best, Dialect::kSurge));
    int& runs = *runs_used;
    runs = 0;
    // Tries edit i of a level on a copy of the best case so far; true if the copy still fails.
    auto attempt = [&](int level, size_t i, bool* exhausted) {
        Case trial = CloneCase(best);
        std::vector<Edit> edits = Edits(trial, level);
        if (i >= edits.size()) {
            *exhausted = true;
            return false;
        }
        edits[i]();
        std::string text = Joined(CaseScript(trial, Dialect::kSurge));
        if (text == best_text || TripsSqliteBug(trial)) return false;
        runs++;
        if (IsolatedFailure(trial) != reason) return false;
        best = std::move(trial);
        best_text = std::move(text);
        return true;
    };
    for (bool progress = true; progress && runs < max_runs;) {
        progress = false;
        // Each level runs to a fixed point before the next, so that expressions are only simplified
        // once the clauses and tables that can go have gone.
        for (int level = 0; level < 3 && runs < max_runs; level++) {
            for (bool level_progress = true; level_progress && runs < max_runs;) {
                level_progress = false;
                bool exhausted = false;
                for (size_t i = 0; !exhausted && runs < max_runs;) {
                    // A kept edit shifts the rest down: edit i is then the next candidate.
                    if (attempt(level, i, &exhausted)) {
                        level_progress = progress = true;
                    } else {
                        i++;
                    }
                }
            }
        }
    }
    return best;
}

std::string SltScript(const Case& c, const std::string& reason) {
    Outcome surge, sqlite;
    RunCase(c, false, &surge, &sqlite);
    std::vector<std::string> script = CaseScript(c, Dialect::kSurge);
    std::string out = "# surge-difftest: " + reason + "\n";
    for (size_t i = 0; i + 1 < script.size(); i++) out += "statement ok\n" + script[i] + "\n\n";
    const std::string& last = script.back();
    if (!sqlite.ok) return out + "# SQLite fails: " + sqlite.error + "\nstatement ok\n" + last + "\n";
    if (!c.query)
        return out + "# SQLite changes " + std::to_string(sqlite.changes) + " rows\nstatement ok\n" + last + "\n";
    std::string types;
    for (Kind k : c.query->types) types += TypeLetter(k);
    bool ordered = c.query->TotallyOrdered();
    std::vector<std::string> values;
    for (const auto& row : sqlite.rows) {
        for (size_t col = 0; col < row.size() && col < types.size(); col++) {
            values.push_back(slt::FormatValue(row[col], types[col]));
        }
    }
    slt::SortValues(ordered ? slt::SortMode::kNoSort : slt::SortMode::kRowSort, types.size(), &values);
    out += "# expected: SQLite's answer\n";
    out += "query " + types + (ordered ? " nosort" : " rowsort") + "\n" + last + "\n----\n";
    for (const std::string& v : values) out += v + "\n";
    return out;
}

}  // namespace surge::difftest

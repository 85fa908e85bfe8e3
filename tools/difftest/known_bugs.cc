// Detection of the SQLite bugs listed in known_bugs.h, by walking the generated tree.
#include "difftest/known_bugs.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace surge::difftest {
namespace {

// Whether n reads a column of one of the aliases (its own FROM list's, not an outer query's).
bool ReadsAlias(const Node& n, const std::vector<std::string>& aliases) {
    if (n.column) {
        const std::string& ref = n.parts[0].text.surge;
        std::string alias = ref.substr(0, ref.find('.'));
        return std::find(aliases.begin(), aliases.end(), alias) != aliases.end();
    }
    for (const Part& p : n.parts) {
        if (p.expr && ReadsAlias(*p.expr, aliases)) return true;
    }
    return false;
}

// The operands of a chain of ANDs (as the generator builds them: expr, " AND ", expr).
void Conjuncts(const Node& n, std::vector<const Node*>* out) {
    if (n.parts.size() == 3 && n.parts[0].expr && n.parts[2].expr && n.parts[1].text.surge == " AND ") {
        Conjuncts(*n.parts[0].expr, out);
        Conjuncts(*n.parts[2].expr, out);
        return;
    }
    out->push_back(&n);
}

// An inner join whose ON has a conjunct that reads none of the FROM list's columns (ON NULL,
// ON a.x = b.x AND 1 = 0), followed by a RIGHT or FULL join.
bool ConstantOnBeforeOuterJoin(const Core& c) {
    std::vector<std::string> aliases;
    for (const FromItem& f : c.from) aliases.push_back(f.alias);
    bool constant_inner = false;
    for (const FromItem& f : c.from) {
        if ((f.join == JoinType::kRight || f.join == JoinType::kFull) && constant_inner) return true;
        if (f.join != JoinType::kInner || !f.on) continue;
        std::vector<const Node*> terms;
        Conjuncts(*f.on, &terms);
        for (const Node* t : terms) constant_inner = constant_inner || !ReadsAlias(*t, aliases);
    }
    return false;
}

// EXISTS (SELECT DISTINCT ... OFFSET n): the subquery is the part after the EXISTS keyword.
bool ExistsDistinctOffset(const Node& n) {
    if (n.parts.size() != 2 || !n.parts[1].select) return false;
    const std::string& word = n.parts[0].text.surge;
    if (word.find("EXISTS") == std::string::npos) return false;
    const Select& s = *n.parts[1].select;
    if (s.offset < 0) return false;
    return std::any_of(s.cores.begin(), s.cores.end(), [](const Core& c) { return c.distinct; });
}

bool HasScalarSubquery(const Node& n) {
    if (n.parts.size() == 1 && n.parts[0].select) return true;
    return std::any_of(n.parts.begin(), n.parts.end(),
                       [](const Part& p) { return p.expr && HasScalarSubquery(*p.expr); });
}

bool SelectListHasScalarSubquery(const Select& s) {
    for (const Core& c : s.cores) {
        for (const NodePtr& item : c.items) {
            if (HasScalarSubquery(*item)) return true;
        }
    }
    return false;
}

// The common tables a query block sees, by name.
using Ctes = std::map<std::string, const Select*>;

const Select* SelectOf(const FromItem& f, const Ctes& ctes) {
    if (f.derived) return f.derived.get();
    auto it = ctes.find(f.table);
    return it == ctes.end() ? nullptr : it->second;
}

// A RIGHT or FULL join in the query, or in a derived or common table of it at any depth (the bug below
// reaches through them: `... UNION ALL SELECT 1 FROM (SELECT 1 FROM u RIGHT JOIN v ON NULL) AS x`).
bool HasOuterJoinArm(const Select& s, const Ctes& ctes) {
    for (const Core& c : s.cores) {
        for (const FromItem& f : c.from) {
            if (f.join == JoinType::kRight || f.join == JoinType::kFull) return true;
            if (const Select* inner = SelectOf(f, ctes); inner && HasOuterJoinArm(*inner, ctes)) return true;
        }
    }
    return false;
}

// A derived or common table whose UNION ALL has an arm with a RIGHT or FULL join, followed by an
// inner join: SQLite fails with "ON clause references tables to its right".
bool UnionAllOuterJoinBeforeInnerJoin(const Core& c, const Ctes& ctes) {
    bool risky = false;
    for (const FromItem& f : c.from) {
        if (risky && f.join == JoinType::kInner) return true;
        const Select* s = SelectOf(f, ctes);
        bool union_all = s && std::find(s->ops.begin(), s->ops.end(), SetOp::kUnionAll) != s->ops.end();
        risky = risky || (union_all && HasOuterJoinArm(*s, ctes));
    }
    return false;
}

// A derived or common table with a scalar subquery in its select list on the null-supplying side
// of an outer join (the item of a LEFT join, the items before a RIGHT join, both sides of FULL).
bool SubqueryColumnUnderOuterJoin(const Core& c, const Ctes& ctes) {
    auto risky = [&](const FromItem& f) {
        const Select* s = SelectOf(f, ctes);
        return s && SelectListHasScalarSubquery(*s);
    };
    for (size_t i = 0; i < c.from.size(); i++) {
        JoinType j = c.from[i].join;
        if ((j == JoinType::kLeft || j == JoinType::kFull) && risky(c.from[i])) return true;
        if (j == JoinType::kRight || j == JoinType::kFull) {
            for (size_t k = 0; k < i; k++) {
                if (risky(c.from[k])) return true;
            }
        }
    }
    return false;
}

bool Hits(const Select& s, Ctes ctes);

bool Hits(const Node& n, const Ctes& ctes) {
    if (ExistsDistinctOffset(n)) return true;
    for (const Part& p : n.parts) {
        if (p.expr && Hits(*p.expr, ctes)) return true;
        if (p.select && Hits(*p.select, ctes)) return true;
    }
    return false;
}

bool Hits(const Select& s, Ctes ctes) {
    for (const auto& cte : s.ctes) {
        if (Hits(*cte.second, ctes)) return true;
        ctes[cte.first] = cte.second.get();
    }
    for (const Core& c : s.cores) {
        if (ConstantOnBeforeOuterJoin(c) || SubqueryColumnUnderOuterJoin(c, ctes) ||
            UnionAllOuterJoinBeforeInnerJoin(c, ctes)) {
            return true;
        }
        for (const FromItem& f : c.from) {
            if (f.derived && Hits(*f.derived, ctes)) return true;
            if (f.on && Hits(*f.on, ctes)) return true;
        }
        for (const NodePtr& item : c.items) {
            if (Hits(*item, ctes)) return true;
        }
        if (c.where && Hits(*c.where, ctes)) return true;
        if (c.having && Hits(*c.having, ctes)) return true;
    }
    return false;
}

// Whether n, or a query inside it, reads table `name` (a base table, by name).
bool ReadsTable(const Node& n, const std::string& name);

bool ReadsTable(const Select& s, const std::string& name) {
    for (const auto& cte : s.ctes) {
        if (ReadsTable(*cte.second, name)) return true;
    }
    for (const Core& c : s.cores) {
        for (const FromItem& f : c.from) {
            if (f.table == name || (f.derived && ReadsTable(*f.derived, name)) || (f.on && ReadsTable(*f.on, name))) {
                return true;
            }
        }
        for (const NodePtr& item : c.items) {
            if (ReadsTable(*item, name)) return true;
        }
        if ((c.where && ReadsTable(*c.where, name)) || (c.having && ReadsTable(*c.having, name))) return true;
    }
    return false;
}

bool ReadsTable(const Node& n, const std::string& name) {
    for (const Part& p : n.parts) {
        if (p.expr && ReadsTable(*p.expr, name)) return true;
        if (p.select && ReadsTable(*p.select, name)) return true;
    }
    return false;
}

}  // namespace

bool HitsKnownSqliteBug(const Node& n) { return Hits(n, Ctes{}); }

bool HitsKnownSqliteBug(const Select& s) { return Hits(s, Ctes{}); }

bool HitsKnownSqliteBug(const Dml& d) {
    std::vector<const Node*> parts;
    if (d.where) parts.push_back(d.where.get());
    for (const auto& set : d.sets) parts.push_back(set.second.get());
    return std::any_of(parts.begin(), parts.end(),
                       [&](const Node* n) { return HitsKnownSqliteBug(*n) || ReadsTable(*n, d.table); });
}

}  // namespace surge::difftest

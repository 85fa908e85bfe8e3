// Rendering and copying of the generated SQL tree.
#include "difftest/sql_tree.h"

#include <algorithm>

namespace surge::difftest {

NodePtr MakeNode(Kind k, std::vector<Part> parts, int precedence) {
    auto n = std::make_shared<Node>();
    n->kind = k;
    n->parts = std::move(parts);
    n->precedence = precedence;
    return n;
}

NodePtr MakeLeaf(Kind k, std::string text) {
    auto n = std::make_shared<Node>();
    n->kind = k;
    n->parts.emplace_back(std::move(text));
    n->compound = false;
    return n;
}

NodePtr MakeColumn(Kind k, std::string ref) {
    NodePtr n = MakeLeaf(k, std::move(ref));
    n->column = true;
    return n;
}

bool Select::TotallyOrdered() const {
    if (order.empty()) return false;
    for (size_t c = 1; c <= types.size(); c++) {
        bool found = std::any_of(order.begin(), order.end(), [&](const OrderKey& k) { return k.position == int(c); });
        if (!found) return false;
    }
    return true;
}

namespace {

void RenderNode(const Node& n, Dialect d, std::string* out) {
    bool paren = n.compound && !n.bare;
    if (paren) *out += '(';
    for (const Part& p : n.parts) {
        if (p.expr) {
            RenderNode(*p.expr, d, out);
        } else if (p.select) {
            *out += '(';
            *out += Render(*p.select, d);
            *out += ')';
        } else {
            *out += p.text.For(d);
        }
    }
    if (paren) *out += ')';
}

const char* JoinWord(JoinType j) {
    switch (j) {
        case JoinType::kFirst:
            return "";
        case JoinType::kComma:
            return ", ";
        case JoinType::kCross:
            return " CROSS JOIN ";
        case JoinType::kInner:
            return " JOIN ";
        case JoinType::kLeft:
            return " LEFT JOIN ";
        case JoinType::kRight:
            return " RIGHT JOIN ";
        case JoinType::kFull:
            return " FULL JOIN ";
    }
    return "";
}

const char* SetOpWord(SetOp op) {
    switch (op) {
        case SetOp::kUnion:
            return " UNION ";
        case SetOp::kUnionAll:
            return " UNION ALL ";
        case SetOp::kIntersect:
            return " INTERSECT ";
        case SetOp::kExcept:
            return " EXCEPT ";
    }
    return "";
}

void RenderCore(const Core& c, Dialect d, std::string* out) {
    *out += c.distinct ? "SELECT DISTINCT " : "SELECT ";
    for (size_t i = 0; i < c.items.size(); i++) {
        if (i > 0) *out += ", ";
        RenderNode(*c.items[i], d, out);
        *out += " AS c" + std::to_string(i);
    }
    if (!c.from.empty()) *out += " FROM ";
    for (const FromItem& f : c.from) {
        *out += JoinWord(f.join);
        if (f.derived) {
            *out += '(' + Render(*f.derived, d) + ')';
        } else {
            *out += f.table;
        }
        *out += " AS " + f.alias;
        if (f.on) {
            *out += " ON ";
            RenderNode(*f.on, d, out);
        }
    }
    if (c.where) {
        *out += " WHERE ";
        RenderNode(*c.where, d, out);
    }
    for (size_t i = 0; i < c.group_by.size(); i++) {
        *out += i == 0 ? " GROUP BY " : ", ";
        RenderNode(*c.group_by[i], d, out);
    }
    if (c.having) {
        *out += " HAVING ";
        RenderNode(*c.having, d, out);
    }
}

}  // namespace

std::string Render(const Node& n, Dialect d) {
    std::string out;
    RenderNode(n, d, &out);
    return out;
}

std::string Render(const Select& s, Dialect d) {
    std::string out;
    for (size_t i = 0; i < s.ctes.size(); i++) {
        out += i == 0 ? "WITH " : ", ";
        out += s.ctes[i].first + " AS (" + Render(*s.ctes[i].second, d) + ")";
    }
    if (!s.ctes.empty()) out += ' ';
    for (size_t i = 0; i < s.cores.size(); i++) {
        if (i > 0) out += SetOpWord(s.ops[i - 1]);
        RenderCore(s.cores[i], d, &out);
    }
    for (size_t i = 0; i < s.order.size(); i++) {
        const OrderKey& k = s.order[i];
        out += i == 0 ? " ORDER BY " : ", ";
        out += std::to_string(k.position);
        if (k.desc) out += " DESC";
        if (k.nulls == 1) out += " NULLS FIRST";
        if (k.nulls == 2) out += " NULLS LAST";
    }
    if (s.limit >= 0) out += " LIMIT " + std::to_string(s.limit);
    if (s.limit >= 0 && s.offset >= 0) out += " OFFSET " + std::to_string(s.offset);
    return out;
}

std::string Render(const Dml& s, Dialect d) {
    std::string out = s.sets.empty() ? "DELETE FROM " + s.table : "UPDATE " + s.table + " SET ";
    for (size_t i = 0; i < s.sets.size(); i++) {
        if (i > 0) out += ", ";
        out += s.sets[i].first + " = " + Render(*s.sets[i].second, d);
    }
    if (s.where) out += " WHERE " + Render(*s.where, d);
    return out;
}

NodePtr Clone(const NodePtr& n) {
    if (!n) return nullptr;
    auto c = std::make_shared<Node>(*n);
    for (Part& p : c->parts) {
        if (p.expr) p.expr = Clone(p.expr);
        if (p.select) p.select = Clone(p.select);
    }
    return c;
}

SelectPtr Clone(const SelectPtr& s) {
    if (!s) return nullptr;
    auto c = std::make_shared<Select>(*s);
    for (auto& cte : c->ctes) cte.second = Clone(cte.second);
    for (Core& core : c->cores) {
        for (NodePtr& item : core.items) item = Clone(item);
        for (FromItem& f : core.from) {
            f.derived = Clone(f.derived);
            f.on = Clone(f.on);
        }
        core.where = Clone(core.where);
        for (NodePtr& g : core.group_by) g = Clone(g);
        core.having = Clone(core.having);
    }
    return c;
}

Dml Clone(const Dml& d) {
    Dml c = d;
    for (auto& set : c.sets) set.second = Clone(set.second);
    c.where = Clone(c.where);
    return c;
}

}  // namespace surge::difftest

// Query blocks, access paths and DML plans.
//
// A block's FROM tables are laid out in FROM order (left-deep nested loops). For each table the
// planner gathers the conjuncts that can be evaluated once it is joined and picks the index that
// matches the longest key prefix with equalities (then one range), preferring a unique full
// match; key expressions may read earlier tables, which makes the join an index nested loop.
// Conjuncts on one table become that scan's filter; the rest filter the join.
#include <algorithm>
#include <bit>

#include "common/status.h"
#include "sql/parser.h"
#include "sql/planner_internal.h"
#include "types/value_ops.h"

namespace surge::sql {

namespace {

std::string At(SourcePos p) { return " at " + std::to_string(p.line) + ":" + std::to_string(p.column); }

}  // namespace

BoundExprPtr Clone(const BoundExpr& e) {
    auto c = std::make_unique<BoundExpr>();
    c->kind = e.kind;
    c->type = e.type;
    c->constant = e.constant;
    c->index = e.index;
    c->depth = e.depth;
    c->binary_op = e.binary_op;
    c->unary_op = e.unary_op;
    c->func = e.func;
    c->negated = e.negated;
    c->case_has_operand = e.case_has_operand;
    c->case_has_else = e.case_has_else;
    c->subquery = e.subquery;
    c->subquery_correlated = e.subquery_correlated;
    c->text = e.text;
    for (const auto& ch : e.children) c->children.push_back(Clone(*ch));
    return c;
}

namespace {

bool HasCorrelatedSubquery(const BoundExpr& e) {
    if (e.subquery && e.subquery_correlated) return true;
    for (const auto& c : e.children) {
        if (HasCorrelatedSubquery(*c)) return true;
    }
    return false;
}

void MaskOf(const BoundExpr& e, const std::vector<ScopeTable>& tables, uint64_t* mask) {
    if (e.kind == BoundKind::kColumn && e.depth == 0) {
        for (size_t i = 0; i < tables.size(); ++i) {
            if (e.index >= tables[i].offset &&
                e.index < tables[i].offset + static_cast<int>(tables[i].columns.size())) {
                *mask |= uint64_t{1} << i;
            }
        }
    }
    for (const auto& c : e.children) MaskOf(*c, tables, mask);
}

PlanPtr NewNode(PlanKind kind) {
    auto n = std::make_unique<PlanNode>();
    n->kind = kind;
    return n;
}

std::vector<OutputColumn> TableColumns(const catalog::TableDef& t) {
    std::vector<OutputColumn> out;
    for (const auto& c : t.columns) out.push_back({c.name, c.type});
    return out;
}

enum class CmpKind { kEq, kIsNull, kLower, kUpper };

struct Candidate {
    size_t conjunct;
    int column;            // table column, or -1 when matched an expression part
    const BoundExpr* lhs;  // the table side
    int other;             // child index of the other side (-1 for IS NULL)
    CmpKind cmp;
    bool inclusive;
};

}  // namespace

void SplitConjuncts(BoundExprPtr e, std::vector<BoundExprPtr>* out) {
    if (!e) return;
    if (e->kind == BoundKind::kBinary && e->binary_op == BinaryOp::kAnd) {
        SplitConjuncts(std::move(e->children[0]), out);
        SplitConjuncts(std::move(e->children[1]), out);
        return;
    }
    out->push_back(std::move(e));
}

void RebaseSlots(BoundExpr& e, int delta, int depth) {
    if (e.kind == BoundKind::kColumn && e.depth == depth) e.index += delta;
    for (auto& c : e.children) RebaseSlots(*c, delta, depth);
}

uint64_t TableMask(const BoundExpr& e, const std::vector<ScopeTable>& tables) {
    if (HasCorrelatedSubquery(e)) return tables.size() >= 64 ? ~uint64_t{0} : (uint64_t{1} << tables.size()) - 1;
    uint64_t mask = 0;
    MaskOf(e, tables, &mask);
    return mask;
}

BoundExprPtr AndAll(std::vector<BoundExprPtr> conjuncts) {
    BoundExprPtr result;
    for (auto& c : conjuncts) {
        if (!c) continue;
        if (!result) {
            result = std::move(c);
            continue;
        }
        auto a = std::make_unique<BoundExpr>();
        a->kind = BoundKind::kBinary;
        a->binary_op = BinaryOp::kAnd;
        a->type = SqlType::Of(TypeId::kBoolean);
        a->text = result->text + " AND " + c->text;
        a->children.push_back(std::move(result));
        a->children.push_back(std::move(c));
        result = std::move(a);
    }
    return result;
}

// ---------------------------------------------------------------- access paths

PlanPtr ChooseAccess(Planner& planner, Planner::Impl& impl, const std::shared_ptr<const catalog::TableDef>& table,
                     int offset, uint64_t self, uint64_t earlier, const std::vector<ScopeTable>& tables,
                     std::vector<BoundExprPtr>& conj) {
    const int width = static_cast<int>(table->columns.size());
    std::vector<Candidate> cands;
    for (size_t k = 0; k < conj.size(); ++k) {
        const BoundExpr* c = conj[k].get();
        if (!c) continue;
        auto table_col = [&](const BoundExpr& x) -> int {
            if (x.kind == BoundKind::kColumn && x.depth == 0 && x.index >= offset && x.index < offset + width) {
                return x.index - offset;
            }
            return -1;
        };
        if (c->kind == BoundKind::kIsNull && !c->negated) {
            cands.push_back({k, table_col(*c->children[0]), c->children[0].get(), -1, CmpKind::kIsNull, true});
            continue;
        }
        if (c->kind != BoundKind::kBinary) continue;
        BinaryOp op = c->binary_op;
        if (op != BinaryOp::kEq && op != BinaryOp::kLt && op != BinaryOp::kLe && op != BinaryOp::kGt &&
            op != BinaryOp::kGe) {
            continue;
        }
        for (int side = 0; side < 2; ++side) {
            const BoundExpr& mine = *c->children[side];
            const BoundExpr& other = *c->children[1 - side];
            if ((TableMask(other, tables) & ~earlier) != 0) continue;
            if (HasCorrelatedSubquery(other)) continue;
            if ((TableMask(mine, tables) & ~self) != 0) continue;
            BinaryOp o = op;
            if (side == 1) {  // other <op> mine  ==  mine <flipped op> other
                if (o == BinaryOp::kLt)
                    o = BinaryOp::kGt;
                else if (o == BinaryOp::kLe)
                    o = BinaryOp::kGe;
                else if (o == BinaryOp::kGt)
                    o = BinaryOp::kLt;
                else if (o == BinaryOp::kGe)
                    o = BinaryOp::kLe;
            }
            Candidate cand{k, table_col(mine), &mine, 1 - side, CmpKind::kEq, true};
            if (o == BinaryOp::kEq) cand.cmp = CmpKind::kEq;
            if (o == BinaryOp::kGt || o == BinaryOp::kGe) cand.cmp = CmpKind::kLower;
            if (o == BinaryOp::kLt || o == BinaryOp::kLe) cand.cmp = CmpKind::kUpper;
            cand.inclusive = o == BinaryOp::kEq || o == BinaryOp::kGe || o == BinaryOp::kLe;
            cands.push_back(cand);
        }
    }

    struct Choice {
        std::shared_ptr<const catalog::IndexDef> index;
        std::vector<const Candidate*> eq;
        const Candidate* lower = nullptr;
        const Candidate* upper = nullptr;
        int score = 0;
    } best;
    for (const auto& idx : impl.catalog.IndexesOf(*table)) {
        // Expression key parts, bound over the table and moved to block slots for matching.
        std::vector<BoundExprPtr> part_exprs(idx->key.size());
        auto matches = [&](const Candidate& c, size_t part) {
            const auto& kp = idx->key[part];
            if (kp.column >= 0) return c.column == kp.column;
            if (!part_exprs[part]) {
                ParsedExpression parsed = ParseExpression(kp.expression);
                auto parsed_expr = planner.BindTableExpression(*parsed.expr, *table, "index key");
                RebaseSlots(*parsed_expr, offset);
                part_exprs[part] = std::move(parsed_expr);
            }
            return SameExpr(*c.lhs, *part_exprs[part]);
        };
        Choice ch;
        ch.index = idx;
        size_t part = 0;
        for (; part < idx->key.size(); ++part) {
            const Candidate* found = nullptr;
            for (const auto& c : cands) {
                if ((c.cmp == CmpKind::kEq || c.cmp == CmpKind::kIsNull) && matches(c, part)) {
                    found = &c;
                    if (c.cmp == CmpKind::kEq) break;
                }
            }
            if (!found) break;
            ch.eq.push_back(found);
        }
        bool ordered = idx->kind == catalog::IndexKind::kOrdered;
        if (!ordered && ch.eq.size() != idx->key.size()) continue;
        if (ordered && part < idx->key.size()) {
            for (const auto& c : cands) {
                if (!matches(c, part)) continue;
                if (c.cmp == CmpKind::kLower && !ch.lower) ch.lower = &c;
                if (c.cmp == CmpKind::kUpper && !ch.upper) ch.upper = &c;
            }
        }
        ch.score = static_cast<int>(ch.eq.size()) * 10 + (ch.lower ? 4 : 0) + (ch.upper ? 4 : 0);
        if (ch.eq.size() == idx->key.size() && idx->unique()) ch.score += 1000;
        if (!ordered) ch.score += 1;  // a hash probe beats a tree walk for the same match
        if (ch.score > best.score) best = std::move(ch);
    }

    if (!best.index) {
        auto scan = NewNode(PlanKind::kSeqScan);
        scan->table = table;
        scan->output = TableColumns(*table);
        return scan;
    }
    auto scan = NewNode(PlanKind::kIndexScan);
    scan->table = table;
    scan->output = TableColumns(*table);
    scan->access.index = best.index->name;
    for (const Candidate* c : best.eq) {
        BoundExpr& cj = *conj[c->conjunct];
        if (c->cmp == CmpKind::kIsNull) {
            scan->access.eq_keys.push_back(MakeConstant(Value()));
            scan->access.eq_is_null.push_back(true);
        } else {
            scan->access.eq_keys.push_back(std::move(cj.children[c->other]));
            scan->access.eq_is_null.push_back(false);
        }
        conj[c->conjunct].reset();
    }
    // Range bounds stay as residual filters too: they also cover values that do not convert
    // exactly to the key type.
    if (best.lower) {
        scan->access.lower = Clone(*conj[best.lower->conjunct]->children[best.lower->other]);
        scan->access.lower_inclusive = best.lower->inclusive;
    }
    if (best.upper) {
        scan->access.upper = Clone(*conj[best.upper->conjunct]->children[best.upper->other]);
        scan->access.upper_inclusive = best.upper->inclusive;
    }
    return scan;
}

namespace {

// The base table a DML statement writes; views are read-only.
std::shared_ptr<const catalog::TableDef> WritableTable(const catalog::Catalog& catalog, const std::string& name,
                                                       const char* verb, SourcePos pos) {
    auto table = catalog.FindTable(name);
    if (table && table->is_view()) {
        ThrowSqlError(ErrorCode::kFeatureNotSupported, std::string("cannot ") + verb + " materialized view \"" + name +
                                                           "\"; it is maintained from its source table" + At(pos));
    }
    if (!table && catalog.FindQueryView(name)) {
        ThrowSqlError(ErrorCode::kFeatureNotSupported,
                      std::string("cannot ") + verb + " view \"" + name + "\"; views are read-only" + At(pos));
    }
    if (!table) ThrowSqlError(ErrorCode::kUndefinedTable, "table \"" + name + "\" does not exist" + At(pos));
    if (table->is_stream() && std::string_view(verb) != "insert into") {
        ThrowSqlError(ErrorCode::kFeatureNotSupported, std::string("cannot ") + verb + " stream \"" + name +
                                                           "\": a stream is insert-only and keeps no rows" + At(pos));
    }
    return table;
}

}  // namespace

// ---------------------------------------------------------------- SELECT

namespace {

struct Leaf {
    const TableRef* ref;
    JoinType join = JoinType::kInner;
    const Expr* on = nullptr;
    const std::vector<std::string>* using_columns = nullptr;
    bool natural = false;
};

bool HasOuterJoin(const TableRef* r) {
    if (r->kind != TableRef::Kind::kJoin) return false;
    if (r->join_type != JoinType::kInner && r->join_type != JoinType::kCross) return true;
    return HasOuterJoin(r->left) || HasOuterJoin(r->right);
}

void Flatten(const TableRef* r, std::vector<Leaf>* leaves) {
    if (r->kind != TableRef::Kind::kJoin) {
        leaves->push_back(Leaf{r});
        return;
    }
    Flatten(r->left, leaves);
    if (r->right->kind == TableRef::Kind::kJoin) {
        if (r->natural) {
            ThrowSqlError(ErrorCode::kFeatureNotSupported,
                          "NATURAL JOIN with a parenthesized join on its right is not supported; name the "
                          "columns with USING (...)" +
                              At(r->pos));
        }
        if ((r->join_type != JoinType::kInner && r->join_type != JoinType::kCross) || HasOuterJoin(r->right)) {
            ThrowSqlError(ErrorCode::kFeatureNotSupported,
                          "an outer join whose right side is a parenthesized join is not supported yet" + At(r->pos));
        }
        size_t first = leaves->size();
        Flatten(r->right, leaves);
        (*leaves)[first].on = r->on;  // inner joins: every ON condition joins the WHERE pool
        return;
    }
    Leaf leaf{r->right, r->join_type, r->on, r->using_columns.empty() ? nullptr : &r->using_columns, r->natural};
    leaves->push_back(leaf);
}

}  // namespace

int Planner::Impl::FindCommonTable(const std::string& name) const {
    for (size_t i = ctes.size(); i-- > 0;) {
        if (ctes[i]->name == name) return static_cast<int>(i);
    }
    return -1;
}

PlanPtr Planner::Impl::PlanCommonTable(size_t k) {
    const CommonTable& ct = *ctes[k];
    // Its query sees only the common tables before it (no recursion).
    std::vector<const CommonTable*> saved = ctes;
    ctes.resize(k);
    PlanPtr plan;
    try {
        plan = WithoutHiddenColumns(PlanSelect(*ct.select, nullptr));
    } catch (...) {
        ctes = std::move(saved);
        throw;
    }
    ctes = std::move(saved);
    if (!ct.columns.empty()) {
        if (ct.columns.size() != plan->output.size()) {
            ThrowSqlError(ErrorCode::kInvalidDefinition,
                          "WITH query \"" + ct.name + "\" names " + std::to_string(ct.columns.size()) +
                              " columns but returns " + std::to_string(plan->output.size()) + At(ct.pos));
        }
        for (size_t c = 0; c < plan->output.size(); ++c) plan->output[c].name = ct.columns[c];
    }
    return plan;
}

PlanPtr Planner::Impl::PlanSelect(const SelectStmt& s, Scope* parent) {
    if (!s.with.empty()) {
        const size_t base = ctes.size();
        for (const CommonTable& ct : s.with) ctes.push_back(&ct);
        struct Pop {
            std::vector<const CommonTable*>& v;
            size_t n;
            ~Pop() { v.resize(n); }
        } pop{ctes, base};
        for (size_t k = base; k < ctes.size(); ++k) PlanCommonTable(k);  // every one must plan, read or not
        return PlanSelectBody(s, parent);
    }
    return PlanSelectBody(s, parent);
}

PlanPtr Planner::Impl::PlanSelectBody(const SelectStmt& s, Scope* parent) {
    if (!s.next) return PlanBlock(s, parent, true);
    bool correlated = false;
    PlanPtr left = PlanBlock(s, parent, false);
    correlated |= last_plan_correlated;
    for (const SelectStmt* b = &s; b->next; b = b->next) {
        PlanPtr right = PlanBlock(*b->next, parent, false);
        correlated |= last_plan_correlated;
        if (right->output.size() != left->output.size()) {
            ThrowSqlError(ErrorCode::kSyntaxError,
                          "each side of a set operation must have the same number of "
                          "columns (" +
                              std::to_string(left->output.size()) + " vs " + std::to_string(right->output.size()) +
                              ")" + At(b->next->pos));
        }
        auto node = NewNode(PlanKind::kSetOp);
        node->set_op = b->set_op;
        node->output = left->output;
        for (size_t i = 0; i < node->output.size(); ++i) {
            TypeId a = node->output[i].type.id, c = right->output[i].type.id;
            if (a == TypeId::kNull)
                node->output[i].type = right->output[i].type;
            else if (IsNumeric(a) && IsNumeric(c) && a != c)
                node->output[i].type = SqlType::Of(ArithmeticResultType(a, c));
        }
        node->children.push_back(std::move(left));
        node->children.push_back(std::move(right));
        left = std::move(node);
    }
    // ORDER BY / LIMIT of the compound: by ordinal or output column name.
    if (!s.order_by.empty()) {
        auto sort = NewNode(PlanKind::kSort);
        sort->output = left->output;
        for (const auto& item : s.order_by) {
            int slot = -1;
            const Expr& e = *item.expr;
            if (e.kind == ExprKind::kLiteral && IsIntegral(e.literal.type())) {
                int64_t n = e.literal.AsInt();
                if (n < 1 || n > static_cast<int64_t>(left->output.size())) {
                    ThrowSqlError(ErrorCode::kSyntaxError,
                                  "ORDER BY position " + std::to_string(n) + " is not in select list" + At(e.pos));
                }
                slot = static_cast<int>(n - 1);
            } else if (e.kind == ExprKind::kColumnRef && e.table.empty()) {
                for (size_t i = 0; i < left->output.size(); ++i) {
                    if (left->output[i].name == e.name) slot = static_cast<int>(i);
                }
            }
            if (slot < 0) {
                ThrowSqlError(ErrorCode::kFeatureNotSupported,
                              "ORDER BY of a set operation must name an output column or position" + At(e.pos));
            }
            sort->sort_keys.push_back(SortKey{slot, item.descending, item.nulls_first.value_or(!item.descending)});
        }
        sort->children.push_back(std::move(left));
        left = std::move(sort);
    }
    if (s.limit || s.offset) {
        Scope empty;
        auto lim = NewNode(PlanKind::kLimit);
        lim->output = left->output;
        if (s.limit) lim->limit = Bind(*s.limit, empty, BindMode::kRow);
        if (s.offset) lim->offset = Bind(*s.offset, empty, BindMode::kRow);
        lim->children.push_back(std::move(left));
        left = std::move(lim);
    }
    last_plan_correlated = correlated;
    return left;
}

PlanPtr Planner::Impl::WithoutHiddenColumns(PlanPtr plan) {
    size_t visible = plan->visible_columns ? plan->visible_columns : plan->output.size();
    if (visible == plan->output.size()) return plan;
    auto trim = NewNode(PlanKind::kProject);  // drops hidden ORDER BY columns
    for (size_t c = 0; c < visible; ++c) {
        trim->exprs.push_back(MakeColumn(static_cast<int>(c), plan->output[c].type, plan->output[c].name));
    }
    trim->output.assign(plan->output.begin(), plan->output.begin() + visible);
    trim->children.push_back(std::move(plan));
    return trim;
}

PlanPtr Planner::Impl::PlanQueryView(const catalog::QueryViewDef& view, SourcePos pos) {
    if (view_depth >= kMaxViewDepth) {
        ThrowSqlError(ErrorCode::kLimitExceeded, "views nested deeper than " + std::to_string(kMaxViewDepth) +
                                                     " levels (does view \"" + view.name + "\" read itself?)");
    }
    ++view_depth;
    struct Leave {
        int& d;
        ~Leave() { --d; }
    } leave{view_depth};
    ParseResult parsed = Parse(view.sql);
    if (parsed.statements.size() != 1 || parsed.statements[0]->kind != StmtKind::kCreateView) {
        ThrowSqlError(ErrorCode::kInternal, "view \"" + view.name + "\" has no CREATE VIEW text");
    }
    const auto& create = static_cast<const CreateViewStatement&>(*parsed.statements[0]);
    const int outer_params = param_count;
    PlanPtr plan;
    try {
        plan = WithoutHiddenColumns(PlanSelect(*create.select, nullptr));
    } catch (const SqlError& e) {
        if (view_depth > 1) throw;  // the outermost view names itself
        ThrowSqlError(e.code(), "view \"" + view.name + "\": " + e.what());
    }
    if (param_count != outer_params) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "view \"" + view.name + "\" may not contain parameters");
    }
    if (!view.column_names.empty()) {
        if (view.column_names.size() != plan->output.size()) {
            ThrowSqlError(ErrorCode::kInvalidDefinition,
                          "view \"" + view.name + "\" names " + std::to_string(view.column_names.size()) +
                              " columns but its query returns " + std::to_string(plan->output.size()) + At(pos));
        }
        for (size_t c = 0; c < plan->output.size(); ++c) plan->output[c].name = view.column_names[c];
    }
    for (size_t c = 0; c < plan->output.size(); ++c) {
        for (size_t d = 0; d < c; ++d) {
            if (plan->output[d].name == plan->output[c].name) {
                ThrowSqlError(ErrorCode::kDuplicateObject, "view \"" + view.name + "\" has two columns named \"" +
                                                               plan->output[c].name + "\"; name them with AS" +
                                                               At(pos));
            }
        }
    }
    view_asts.push_back(std::move(parsed));
    return plan;
}

PlanPtr Planner::Impl::PlanBlock(const SelectStmt& s, Scope* parent, bool apply_order_limit) {
    Scope scope;
    scope.parent = parent;

    // FROM: flatten joins into leaves laid out left to right.
    std::vector<Leaf> leaves;
    for (const TableRef* r : s.from) {
        size_t first = leaves.size();
        Flatten(r, &leaves);
        if (first > 0) leaves[first].join = JoinType::kCross;
        // The joins run left-deep over all leaves, so a RIGHT/FULL join would null-extend the
        // earlier comma items too; the standard scopes it to its own item.
        for (size_t k = first; first > 0 && k < leaves.size(); ++k) {
            if (leaves[k].join == JoinType::kRight || leaves[k].join == JoinType::kFull) {
                ThrowSqlError(ErrorCode::kFeatureNotSupported,
                              "a RIGHT or FULL JOIN in the second or a later item of a comma-separated FROM list "
                              "is not supported; list that join first, or write the comma as CROSS JOIN" +
                                  At(r->pos));
            }
        }
    }
    if (leaves.size() > 32) {
        ThrowSqlError(ErrorCode::kLimitExceeded, "a query block may join at most 32 tables" + At(s.pos));
    }
    std::vector<PlanPtr> derived(leaves.size());
    for (size_t i = 0; i < leaves.size(); ++i) {
        const TableRef* r = leaves[i].ref;
        ScopeTable t;
        if (r->kind == TableRef::Kind::kTable) {
            // A common table of an enclosing WITH hides a table of the same name.
            t.def = FindCommonTable(r->name) >= 0 ? nullptr : catalog.FindTable(r->name);
            t.name = r->alias.empty() ? r->name : r->alias;
            if (t.def && t.def->is_stream()) {
                ThrowSqlError(ErrorCode::kFeatureNotSupported,
                              "stream \"" + r->name +
                                  "\" keeps no rows to read: insert into it, and read a materialized view over it" +
                                  At(r->pos));
            }
            if (t.def) {
                t.columns = TableColumns(*t.def);
            } else if (int k = FindCommonTable(r->name); k >= 0) {
                t.def = nullptr;
                derived[i] = PlanCommonTable(static_cast<size_t>(k));
                t.columns = derived[i]->output;
            } else if (auto view = catalog.FindQueryView(r->name)) {
                derived[i] = PlanQueryView(*view, r->pos);
                t.columns = derived[i]->output;
            } else {
                ThrowSqlError(ErrorCode::kUndefinedTable, "table \"" + r->name + "\" does not exist" + At(r->pos));
            }
        } else {
            if (r->alias.empty()) {
                ThrowSqlError(ErrorCode::kSyntaxError, "a subquery in FROM must have an alias" + At(r->pos));
            }
            derived[i] = WithoutHiddenColumns(PlanSelect(*r->subquery, parent));
            t.name = r->alias;
            t.columns = derived[i]->output;
        }
        for (const auto& other : scope.tables) {
            if (other.name == t.name) {
                ThrowSqlError(ErrorCode::kDuplicateObject,
                              "table name \"" + t.name + "\" specified more than once" + At(r->pos));
            }
        }
        t.offset = scope.width;
        t.join = leaves[i].join;
        if (t.join == JoinType::kLeft || t.join == JoinType::kFull) {
            t.nullable_side = true;
            t.nulled_at = static_cast<int>(i);
        }
        if (t.join == JoinType::kRight || t.join == JoinType::kFull) {
            for (auto& before : scope.tables) {
                before.nullable_side = true;
                before.nulled_at = static_cast<int>(i);
            }
        }
        scope.width += static_cast<int>(t.columns.size());
        scope.tables.push_back(std::move(t));
    }

    // WHERE and ON.
    std::vector<BoundExprPtr> where;
    if (s.where) {
        if (ContainsAggregate(*s.where)) {
            ThrowSqlError(ErrorCode::kGroupingError, "aggregate functions are not allowed in WHERE" + At(s.where->pos));
        }
        auto w = Bind(*s.where, scope, BindMode::kRow);
        if (w->type.id != TypeId::kBoolean && w->type.id != TypeId::kNull) {
            ThrowSqlError(ErrorCode::kTypeMismatch,
                          "WHERE requires a boolean expression, got " + TypeName(w->type) + At(s.where->pos));
        }
        SplitConjuncts(std::move(w), &where);
    }
    std::vector<std::pair<int, std::vector<BoundExprPtr>>> on_conjuncts;
    auto keeps_right_after = [&](size_t i) {
        for (size_t k = i; k < leaves.size(); ++k) {
            if (leaves[k].join == JoinType::kRight || leaves[k].join == JoinType::kFull) return true;
        }
        return false;
    };
    for (size_t i = 0; i < leaves.size(); ++i) {
        std::vector<BoundExprPtr> on;
        if (leaves[i].on) {
            auto b = Bind(*leaves[i].on, scope, BindMode::kRow);
            if (b->type.id != TypeId::kBoolean && b->type.id != TypeId::kNull) {
                ThrowSqlError(ErrorCode::kTypeMismatch, "ON requires a boolean expression" + At(leaves[i].on->pos));
            }
            SplitConjuncts(std::move(b), &on);
        }
        std::vector<std::string> natural_columns;
        if (leaves[i].natural) {  // the right table's columns that a table on its left has too
            for (const auto& c : scope.tables[i].columns) {
                for (size_t k = 0; k < i; ++k) {
                    const auto& left = scope.tables[k].columns;
                    if (std::any_of(left.begin(), left.end(), [&](const auto& l) { return l.name == c.name; })) {
                        natural_columns.push_back(c.name);
                        break;
                    }
                }
            }
        }
        const std::vector<std::string>* using_columns = leaves[i].natural ? &natural_columns : leaves[i].using_columns;
        if (using_columns) {
            const std::string what = leaves[i].natural ? "NATURAL JOIN column \"" : "USING column \"";
            for (const auto& col : *using_columns) {
                Expr right_ref;
                right_ref.kind = ExprKind::kColumnRef;
                right_ref.table = scope.tables[i].name;
                right_ref.name = col;
                auto r = Bind(right_ref, scope, BindMode::kRow);
                int left_slot = -1;
                SqlType left_type;
                for (size_t k = 0; k < i; ++k) {
                    const auto& t = scope.tables[k];
                    for (size_t c = 0; c < t.columns.size(); ++c) {
                        if (t.columns[c].name != col) continue;
                        if (left_slot >= 0) {
                            ThrowSqlError(ErrorCode::kAmbiguousColumn, what + col + "\" is ambiguous");
                        }
                        left_slot = t.offset + static_cast<int>(c);
                        left_type = t.columns[c].type;
                    }
                }
                if (left_slot < 0) {
                    ThrowSqlError(ErrorCode::kUndefinedColumn, what + col + "\" not found on the left");
                }
                auto eq = std::make_unique<BoundExpr>();
                eq->kind = BoundKind::kBinary;
                eq->binary_op = BinaryOp::kEq;
                eq->type = SqlType::Of(TypeId::kBoolean);
                eq->text = col + " = " + col;
                eq->children.push_back(MakeColumn(left_slot, left_type, col));
                eq->children.push_back(std::move(r));
                on.push_back(std::move(eq));
            }
        }
        // An inner join's ON joins the WHERE pool, unless a later RIGHT/FULL join may null-extend
        // its tables: then it must be tested at its own join, before that.
        if (leaves[i].join == JoinType::kLeft || keeps_right_after(i)) {
            on_conjuncts.emplace_back(static_cast<int>(i), std::move(on));
        } else {
            for (auto& c : on) where.push_back(std::move(c));
        }
    }

    if (on_conjuncts.empty()) ReorderJoins(scope, derived, where);

    PlanPtr node;
    if (leaves.empty()) {
        node = NewNode(PlanKind::kOneRow);
        if (!where.empty()) {
            auto f = NewNode(PlanKind::kFilter);
            f->filter = AndAll(std::move(where));
            f->children.push_back(std::move(node));
            node = std::move(f);
        }
    } else {
        node = PlanFromLeaves(scope, std::move(derived), std::move(where), std::move(on_conjuncts));
    }

    // Aggregation.
    bool aggregated = !s.group_by.empty() || s.having != nullptr;
    for (const auto& item : s.items) aggregated |= item.expr->kind != ExprKind::kStar && ContainsAggregate(*item.expr);
    for (const auto& item : s.order_by) aggregated |= ContainsAggregate(*item.expr);
    std::vector<AggSpec> aggs;
    std::vector<BoundExprPtr> group_exprs;
    if (aggregated) {
        for (const Expr* g : s.group_by) {
            if (ContainsAggregate(*g)) {
                ThrowSqlError(ErrorCode::kGroupingError,
                              "aggregate functions are not allowed in GROUP BY" + At(g->pos));
            }
            // GROUP BY may name a select-list alias or position.
            const Expr* target = g;
            if (g->kind == ExprKind::kLiteral && IsIntegral(g->literal.type())) {
                int64_t n = g->literal.AsInt();
                if (n < 1 || n > static_cast<int64_t>(s.items.size()) || s.items[n - 1].expr->kind == ExprKind::kStar) {
                    ThrowSqlError(ErrorCode::kSyntaxError,
                                  "GROUP BY position " + std::to_string(n) + " is not in select list" + At(g->pos));
                }
                target = s.items[n - 1].expr;
            }
            auto b = Bind(*target, scope, BindMode::kRow);
            scope.group_text.push_back(ExprToSql(*target));
            scope.group_types.push_back(b->type);
            scope.group_slot.push_back(b->kind == BoundKind::kColumn && b->depth == 0 ? b->index : -1);
            group_exprs.push_back(std::move(b));
        }
        scope.aggregated = true;
        scope.aggs = &aggs;
    }
    const BindMode mode = aggregated ? BindMode::kPostAggregate : BindMode::kRow;

    // Window functions may appear in the select list and ORDER BY.
    std::vector<WindowFunc> windows;
    scope.windows = &windows;

    // Select list.
    std::vector<BoundExprPtr> exprs;
    std::vector<OutputColumn> cols;
    for (const auto& item : s.items) {
        const Expr& e = *item.expr;
        if (e.kind == ExprKind::kStar) {
            bool any = false;
            for (size_t k = 0; k < scope.tables.size(); ++k) {  // in FROM order
                const auto& t = scope.tables[scope.from_order.empty() ? k : scope.from_order[k]];
                if (!e.table.empty() && t.name != e.table) continue;
                any = true;
                for (size_t c = 0; c < t.columns.size(); ++c) {
                    int slot = t.offset + static_cast<int>(c);
                    if (aggregated) {
                        // SELECT * of an aggregate query: every column must be a group key.
                        auto g = std::find(scope.group_slot.begin(), scope.group_slot.end(), slot);
                        if (g == scope.group_slot.end()) {
                            ThrowSqlError(ErrorCode::kGroupingError,
                                          "column \"" + t.name + "." + t.columns[c].name +
                                              "\" must appear in the GROUP BY clause for SELECT *" + At(e.pos));
                        }
                        slot = static_cast<int>(g - scope.group_slot.begin());
                    }
                    exprs.push_back(MakeColumn(slot, t.columns[c].type, t.columns[c].name));
                    cols.push_back(t.columns[c]);
                }
            }
            if (!any) {
                ThrowSqlError(e.table.empty() ? ErrorCode::kSyntaxError : ErrorCode::kUndefinedTable,
                              e.table.empty() ? "SELECT * requires a FROM clause" + At(e.pos)
                                              : "missing FROM entry for table \"" + e.table + "\"" + At(e.pos));
            }
            continue;
        }
        auto b = Bind(e, scope, mode);
        std::string name = item.alias;
        if (name.empty()) name = e.kind == ExprKind::kColumnRef ? e.name : ExprToSql(e);
        cols.push_back({name, b->type});
        exprs.push_back(std::move(b));
    }
    const size_t visible = exprs.size();

    // HAVING.
    BoundExprPtr having;
    if (s.having) {
        scope.windows = nullptr;
        having = Bind(*s.having, scope, BindMode::kPostAggregate);
        scope.windows = &windows;
        if (having->type.id != TypeId::kBoolean && having->type.id != TypeId::kNull) {
            ThrowSqlError(ErrorCode::kTypeMismatch, "HAVING requires a boolean expression" + At(s.having->pos));
        }
    }

    // ORDER BY: positions, output names, select expressions, or hidden extra columns.
    std::vector<SortKey> sort_keys;
    if (apply_order_limit) {
        for (const auto& item : s.order_by) {
            const Expr& e = *item.expr;
            int slot = -1;
            if (e.kind == ExprKind::kLiteral && IsIntegral(e.literal.type())) {
                int64_t n = e.literal.AsInt();
                if (n < 1 || n > static_cast<int64_t>(visible)) {
                    ThrowSqlError(ErrorCode::kSyntaxError,
                                  "ORDER BY position " + std::to_string(n) + " is not in select list" + At(e.pos));
                }
                slot = static_cast<int>(n - 1);
            } else if (e.kind == ExprKind::kColumnRef && e.table.empty()) {
                for (size_t i = 0; i < s.items.size() && i < visible; ++i) {
                    if (!s.items[i].alias.empty() && s.items[i].alias == e.name) {
                        slot = static_cast<int>(i);
                        break;
                    }
                }
            }
            if (slot < 0) {
                auto b = Bind(e, scope, mode);
                for (size_t i = 0; i < exprs.size(); ++i) {
                    if (SameExpr(*exprs[i], *b)) {
                        slot = static_cast<int>(i);
                        break;
                    }
                }
                if (slot < 0) {
                    if (s.distinct) {
                        ThrowSqlError(
                            ErrorCode::kSyntaxError,
                            "for SELECT DISTINCT, ORDER BY expressions must appear in the select list" + At(e.pos));
                    }
                    slot = static_cast<int>(exprs.size());
                    cols.push_back({ExprToSql(e), b->type});
                    exprs.push_back(std::move(b));
                }
            }
            sort_keys.push_back(SortKey{slot, item.descending, item.nulls_first.value_or(!item.descending)});
        }
    }

    scope.windows = nullptr;

    if (aggregated) {
        auto agg = NewNode(PlanKind::kAggregate);
        for (size_t i = 0; i < group_exprs.size(); ++i)
            agg->output.push_back({scope.group_text[i], group_exprs[i]->type});
        for (size_t i = 0; i < aggs.size(); ++i) agg->output.push_back({scope.agg_text[i], aggs[i].type});
        agg->group_by = std::move(group_exprs);
        agg->aggs = std::move(aggs);
        agg->children.push_back(std::move(node));
        node = std::move(agg);
        if (having) {
            auto f = NewNode(PlanKind::kFilter);
            f->output = node->output;
            f->filter = std::move(having);
            f->children.push_back(std::move(node));
            node = std::move(f);
        }
    }

    if (!windows.empty()) {
        // The window node appends one column per function to its input row.
        const int base = static_cast<int>(node->output.size());
        for (auto& [ref, k] : scope.window_refs) ref->index = base + k;
        auto win = NewNode(PlanKind::kWindow);
        win->output = node->output;
        for (size_t k = 0; k < windows.size(); ++k) win->output.push_back({scope.window_text[k], windows[k].type});
        win->windows = std::move(windows);
        win->children.push_back(std::move(node));
        node = std::move(win);
    }

    // Projection (skipped when it would copy the input row unchanged).
    bool identity = exprs.size() == static_cast<size_t>(scope.width) && !aggregated && !leaves.empty();
    for (size_t i = 0; identity && i < exprs.size(); ++i) {
        identity =
            exprs[i]->kind == BoundKind::kColumn && exprs[i]->depth == 0 && exprs[i]->index == static_cast<int>(i);
    }
    if (!identity) {
        auto proj = NewNode(PlanKind::kProject);
        proj->exprs = std::move(exprs);
        proj->children.push_back(std::move(node));
        node = std::move(proj);
    }
    node->output = cols;

    if (s.distinct) {
        auto d = NewNode(PlanKind::kDistinct);
        d->output = cols;
        d->children.push_back(std::move(node));
        node = std::move(d);
    }
    if (!sort_keys.empty() && !TryIndexOrder(*node, sort_keys, aggregated || s.distinct)) {
        auto sort = NewNode(PlanKind::kSort);
        sort->output = cols;
        sort->sort_keys = std::move(sort_keys);
        sort->children.push_back(std::move(node));
        node = std::move(sort);
    }
    if (apply_order_limit && (s.limit || s.offset)) {
        Scope empty;
        auto lim = NewNode(PlanKind::kLimit);
        lim->output = cols;
        auto bind_count = [&](const Expr* e) {
            auto b = Bind(*e, empty, BindMode::kRow);
            NoteParamType(*b, SqlType::Of(TypeId::kBigInt));
            if (!IsIntegral(b->type.id) && b->type.id != TypeId::kNull) {
                ThrowSqlError(ErrorCode::kTypeMismatch, "LIMIT and OFFSET require integers" + At(e->pos));
            }
            return b;
        };
        if (s.limit) lim->limit = bind_count(s.limit);
        if (s.offset) lim->offset = bind_count(s.offset);
        lim->children.push_back(std::move(node));
        node = std::move(lim);
    }
    node->visible_columns = visible;
    last_plan_correlated = scope.correlated;
    return node;
}

PlanPtr Planner::Impl::PlanFromLeaves(Scope& scope, std::vector<PlanPtr> derived, std::vector<BoundExprPtr> where,
                                      std::vector<std::pair<int, std::vector<BoundExprPtr>>> on_conjuncts) {
    const auto& tables = scope.tables;
    const size_t n = tables.size();
    auto highest = [](uint64_t mask) { return mask == 0 ? 0 : 63 - std::countl_zero(mask); };
    uint64_t nullable = 0;
    for (size_t i = 0; i < n; ++i) {
        if (tables[i].nullable_side) nullable |= uint64_t{1} << i;
    }
    // Assign WHERE conjuncts to the step where their last table joins; one that reads a table an
    // outer join may null-extend waits until after the last such join.
    std::vector<std::vector<BoundExprPtr>> pool(n), post(n);
    for (auto& c : where) {
        uint64_t mask = TableMask(*c, tables);
        size_t step = static_cast<size_t>(highest(mask));
        if (step >= n) step = n - 1;
        bool after_join = false;
        if (mask == 0 && nullable != 0) {
            // Reads no table (a constant, or only outer blocks): it must also filter the rows an
            // outer join adds, so it goes last.
            step = n - 1;
            after_join = true;
        } else if (mask & nullable) {
            for (size_t k = 0; k < n; ++k) {
                if ((mask >> k & 1) && tables[k].nulled_at > static_cast<int>(step)) step = tables[k].nulled_at;
            }
            after_join = true;
        }
        // A RIGHT/FULL join tests only its ON condition; WHERE filters what it produced.
        after_join |= tables[step].join == JoinType::kRight || tables[step].join == JoinType::kFull;
        (after_join ? post : pool)[step].push_back(std::move(c));
    }
    for (auto& [i, on] : on_conjuncts) {
        for (auto& c : on) pool[i].push_back(std::move(c));
    }

    PlanPtr node;
    for (size_t i = 0; i < n; ++i) {
        const ScopeTable& t = tables[i];
        const uint64_t self = uint64_t{1} << i;
        // RIGHT and FULL joins keep every row of this table: nothing filters its scan or looks
        // it up by the rows before it (the join reads it once and tests ON per pair).
        const bool preserves_right = t.join == JoinType::kRight || t.join == JoinType::kFull;
        PlanPtr scan;
        // Conjuncts that tie this table to the ones before it: when ChooseAccess turns one into
        // an index lookup, the join is an index nested loop; otherwise equalities make it a hash join.
        const uint64_t earlier = self - 1;
        auto tied = [&] {
            size_t n_tied = 0;
            for (const auto& c : pool[i]) n_tied += c && (TableMask(*c, tables) & earlier) != 0;
            return n_tied;
        };
        const size_t tied_before = tied();
        if (t.def) {
            std::vector<BoundExprPtr> none;
            scan =
                ChooseAccess(planner, *this, t.def, t.offset, self, earlier, tables, preserves_right ? none : pool[i]);
        } else {
            scan = std::move(derived[i]);
        }
        // An index scan whose keys read the row of the tables before it re-seeks per left row: an
        // index nested loop (it cannot be the build side of a hash join).
        const bool index_lookup = tied() < tied_before || ReadsContextRow(*scan);
        std::vector<BoundExprPtr> local, join;
        for (auto& c : pool[i]) {
            if (!c) continue;
            uint64_t mask = TableMask(*c, tables);
            if (!preserves_right && (mask & ~self) == 0 && !HasCorrelatedSubquery(*c)) {
                RebaseSlots(*c, -t.offset);
                local.push_back(std::move(c));
            } else {
                join.push_back(std::move(c));
            }
        }
        if (!local.empty()) {
            if (t.def) {
                scan->filter = AndAll(std::move(local));
            } else {
                auto f = NewNode(PlanKind::kFilter);
                f->output = scan->output;
                f->filter = AndAll(std::move(local));
                f->children.push_back(std::move(scan));
                scan = std::move(f);
            }
        }
        if (i == 0) {
            node = std::move(scan);
            if (!join.empty()) {  // constant-only conjuncts that stayed (e.g. correlated tests)
                auto f = NewNode(PlanKind::kFilter);
                f->output = node->output;
                f->filter = AndAll(std::move(join));
                f->children.push_back(std::move(node));
                node = std::move(f);
            }
        } else if (!index_lookup && !preserves_right && TakeHashKeys(tables, i, &join, &node, &scan)) {
            // TakeHashKeys built the hash join into node.
            node->join_type = t.join == JoinType::kCross ? JoinType::kInner : t.join;
            node->filter = AndAll(std::move(join));
        } else {
            auto j = NewNode(PlanKind::kNestedLoopJoin);
            j->join_type = t.join == JoinType::kCross ? JoinType::kInner : t.join;
            j->output = node->output;
            j->output.insert(j->output.end(), scan->output.begin(), scan->output.end());
            j->filter = AndAll(std::move(join));
            // A derived table (subquery, common table, query view) cannot read the left row: run
            // it once instead of once per left row.
            j->materialize_right = !t.def;
            j->children.push_back(std::move(node));
            j->children.push_back(std::move(scan));
            node = std::move(j);
        }
        if (!post[i].empty()) {
            auto f = NewNode(PlanKind::kFilter);
            f->output = node->output;
            f->filter = AndAll(std::move(post[i]));
            f->children.push_back(std::move(node));
            node = std::move(f);
        }
    }
    return node;
}

namespace {

bool ReadsDepth0(const BoundExpr& e) {
    if (e.kind == BoundKind::kColumn && e.depth == 0) return true;
    for (const auto& c : e.children) {
        if (c && ReadsDepth0(*c)) return true;
    }
    return false;
}

}  // namespace

bool ReadsContextRow(const PlanNode& scan) {
    if (scan.kind != PlanKind::kIndexScan) return false;
    const IndexAccess& a = scan.access;
    for (const auto& k : a.eq_keys) {
        if (k && ReadsDepth0(*k)) return true;
    }
    return (a.lower && ReadsDepth0(*a.lower)) || (a.upper && ReadsDepth0(*a.upper));
}

namespace {

// Whether equal values of these types hash alike (HashValue agrees with GroupEquals).
bool HashCompatible(TypeId a, TypeId b) {
    if (a == TypeId::kNull || b == TypeId::kNull) return false;
    if (IsNumeric(a) && IsNumeric(b)) return true;
    if ((a == TypeId::kTimestamp && IsIntegral(b)) || (b == TypeId::kTimestamp && IsIntegral(a))) return true;
    return a == b && a != TypeId::kBoolean;
}

}  // namespace

bool Planner::Impl::TakeHashKeys(const std::vector<ScopeTable>& tables, size_t i, std::vector<BoundExprPtr>* join,
                                 PlanPtr* node, PlanPtr* scan) {
    const uint64_t self = uint64_t{1} << i, earlier = self - 1;
    const int offset = tables[i].offset;
    std::vector<BoundExprPtr> left_keys, right_keys, rest;
    for (auto& c : *join) {
        bool taken = false;
        if (c->kind == BoundKind::kBinary && c->binary_op == BinaryOp::kEq && !HasCorrelatedSubquery(*c)) {
            for (int side = 0; side < 2 && !taken; ++side) {
                BoundExpr& l = *c->children[side];
                BoundExpr& r = *c->children[1 - side];
                const uint64_t lm = TableMask(l, tables), rm = TableMask(r, tables);
                if (lm == 0 || (lm & ~earlier) != 0 || rm != self || !HashCompatible(l.type.id, r.type.id)) continue;
                BoundExprPtr lk = std::move(c->children[side]);
                BoundExprPtr rk = std::move(c->children[1 - side]);
                RebaseSlots(*rk, -offset);
                left_keys.push_back(std::move(lk));
                right_keys.push_back(std::move(rk));
                taken = true;
            }
        }
        if (!taken) rest.push_back(std::move(c));
    }
    if (left_keys.empty()) {
        *join = std::move(rest);
        return false;
    }
    auto h = NewNode(PlanKind::kHashJoin);
    h->output = (*node)->output;
    h->output.insert(h->output.end(), (*scan)->output.begin(), (*scan)->output.end());
    h->hash_left_keys = std::move(left_keys);
    h->hash_right_keys = std::move(right_keys);
    h->children.push_back(std::move(*node));
    h->children.push_back(std::move(*scan));
    *node = std::move(h);
    *join = std::move(rest);
    return true;
}

bool Planner::Impl::TryIndexOrder(PlanNode& top, const std::vector<SortKey>& keys, bool disallow) {
    if (planner.multi_partition()) return false;  // index order holds within one partition only
    if (disallow || keys.empty()) return false;
    PlanNode* scan = &top;
    if (top.kind == PlanKind::kProject) scan = top.children[0].get();
    if (scan->kind != PlanKind::kSeqScan && scan->kind != PlanKind::kIndexScan) return false;
    const bool desc = keys[0].descending;
    std::vector<int> columns;
    for (const auto& k : keys) {
        if (k.descending != desc || k.nulls_first != !desc) return false;
        if (&top == scan) {
            columns.push_back(k.slot);
        } else {
            const BoundExpr& e = *top.exprs[k.slot];
            if (e.kind != BoundKind::kColumn || e.depth != 0) return false;
            columns.push_back(e.index);
        }
    }
    auto serves = [&](const catalog::IndexDef& idx, size_t from) {
        if (idx.kind != catalog::IndexKind::kOrdered || from + columns.size() > idx.key.size()) return false;
        for (size_t i = 0; i < columns.size(); ++i) {
            if (idx.key[from + i].column != columns[i]) return false;
        }
        return true;
    };
    if (scan->kind == PlanKind::kIndexScan) {
        auto idx = catalog.FindIndex(scan->access.index);
        if (!idx || !serves(*idx, scan->access.eq_keys.size())) return false;
        scan->access.reverse = desc;
        return true;
    }
    for (const auto& idx : catalog.IndexesOf(*scan->table)) {
        if (serves(*idx, 0)) {
            scan->kind = PlanKind::kIndexScan;
            scan->access.index = idx->name;
            scan->access.reverse = desc;
            return true;
        }
    }
    return false;
}

// ---------------------------------------------------------------- DML

PlanPtr Planner::Impl::PlanInsert(const InsertStatement& s) {
    auto table = WritableTable(catalog, s.table, "insert into", s.pos);
    auto node = NewNode(PlanKind::kInsert);
    node->table = table;
    node->upsert = s.upsert;
    if (s.upsert && (table->indexes.empty() || !catalog.FindIndex(table->indexes[0])->is_primary_key())) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, "UPSERT requires table \"" + s.table + "\" to have a primary key");
    }
    if (s.columns.empty()) {
        for (size_t c = 0; c < table->columns.size(); ++c) node->target_columns.push_back(static_cast<int>(c));
    } else {
        for (const auto& name : s.columns) {
            int c = table->FindColumn(name);
            if (c < 0) {
                ThrowSqlError(ErrorCode::kUndefinedColumn,
                              "column \"" + name + "\" of table \"" + s.table + "\" does not exist" + At(s.pos));
            }
            if (std::find(node->target_columns.begin(), node->target_columns.end(), c) != node->target_columns.end()) {
                ThrowSqlError(ErrorCode::kSyntaxError, "column \"" + name + "\" specified more than once" + At(s.pos));
            }
            node->target_columns.push_back(c);
        }
    }
    const size_t width = node->target_columns.size();
    if (s.select) {
        PlanPtr src = PlanSelect(*s.select, nullptr);
        size_t visible = src->visible_columns ? src->visible_columns : src->output.size();
        if (visible != width) {
            ThrowSqlError(ErrorCode::kSyntaxError, "INSERT has " + std::to_string(width) +
                                                       " target columns but the "
                                                       "SELECT returns " +
                                                       std::to_string(visible) + At(s.pos));
        }
        node->children.push_back(std::move(src));
    } else {
        Scope empty;
        for (const auto& row : s.rows) {
            if (row.size() != width) {
                ThrowSqlError(ErrorCode::kSyntaxError, "INSERT has " + std::to_string(width) + " target columns but " +
                                                           std::to_string(row.size()) + " values" + At(s.pos));
            }
            std::vector<BoundExprPtr> values;
            for (size_t i = 0; i < row.size(); ++i) {
                if (ContainsAggregate(*row[i])) {
                    ThrowSqlError(ErrorCode::kGroupingError,
                                  "aggregate functions are not allowed in VALUES" + At(row[i]->pos));
                }
                auto b = Bind(*row[i], empty, BindMode::kRow);
                NoteParamType(*b, table->columns[node->target_columns[i]].type);
                values.push_back(std::move(b));
            }
            node->rows.push_back(std::move(values));
        }
    }
    return node;
}

namespace {

/// Single-table scope for UPDATE and DELETE.
void TableScope(Scope& scope, const std::shared_ptr<const catalog::TableDef>& table) {
    ScopeTable t;
    t.name = table->name;
    t.def = table;
    t.columns = TableColumns(*table);
    scope.width = static_cast<int>(t.columns.size());
    scope.tables.push_back(std::move(t));
}

}  // namespace

PlanPtr Planner::Impl::PlanUpdate(const UpdateStatement& s) {
    auto table = WritableTable(catalog, s.table, "update", s.pos);
    Scope scope;
    TableScope(scope, table);
    auto node = NewNode(PlanKind::kUpdate);
    node->table = table;
    for (const auto& [name, expr] : s.assignments) {
        int c = table->FindColumn(name);
        if (c < 0) {
            ThrowSqlError(ErrorCode::kUndefinedColumn,
                          "column \"" + name + "\" of table \"" + s.table + "\" does not exist" + At(s.pos));
        }
        if (std::find(node->target_columns.begin(), node->target_columns.end(), c) != node->target_columns.end()) {
            ThrowSqlError(ErrorCode::kSyntaxError, "column \"" + name + "\" assigned more than once" + At(s.pos));
        }
        if (ContainsAggregate(*expr)) {
            ThrowSqlError(ErrorCode::kGroupingError, "aggregate functions are not allowed in UPDATE" + At(expr->pos));
        }
        auto b = Bind(*expr, scope, BindMode::kRow);
        NoteParamType(*b, table->columns[c].type);
        node->target_columns.push_back(c);
        node->exprs.push_back(std::move(b));
    }
    std::vector<BoundExprPtr> where;
    if (s.where) {
        if (ContainsAggregate(*s.where)) {
            ThrowSqlError(ErrorCode::kGroupingError, "aggregate functions are not allowed in WHERE" + At(s.where->pos));
        }
        SplitConjuncts(Bind(*s.where, scope, BindMode::kRow), &where);
    }
    node->children.push_back(PlanFromLeaves(scope, std::vector<PlanPtr>(1), std::move(where), {}));
    return node;
}

PlanPtr Planner::Impl::PlanDelete(const DeleteStatement& s) {
    auto table = WritableTable(catalog, s.table, "delete from", s.pos);
    Scope scope;
    TableScope(scope, table);
    auto node = NewNode(PlanKind::kDelete);
    node->table = table;
    std::vector<BoundExprPtr> where;
    if (s.where) {
        if (ContainsAggregate(*s.where)) {
            ThrowSqlError(ErrorCode::kGroupingError, "aggregate functions are not allowed in WHERE" + At(s.where->pos));
        }
        SplitConjuncts(Bind(*s.where, scope, BindMode::kRow), &where);
    }
    node->children.push_back(PlanFromLeaves(scope, std::vector<PlanPtr>(1), std::move(where), {}));
    return node;
}

// ---------------------------------------------------------------- entry points

std::vector<OutputColumn> Planner::QueryViewColumns(const catalog::QueryViewDef& view) {
    Impl impl(*this, catalog_);
    return impl.PlanQueryView(view, SourcePos{})->output;
}

PlannedStatement Planner::Plan(const Statement& stmt) {
    Impl impl(*this, catalog_);
    PlannedStatement out;
    out.kind = stmt.kind;
    switch (stmt.kind) {
        case StmtKind::kSelect: {
            out.plan = impl.PlanSelect(*static_cast<const SelectStatement&>(stmt).select, nullptr);
            size_t visible = out.plan->visible_columns ? out.plan->visible_columns : out.plan->output.size();
            out.columns.assign(out.plan->output.begin(), out.plan->output.begin() + visible);
            break;
        }
        case StmtKind::kInsert:
            out.plan = impl.PlanInsert(static_cast<const InsertStatement&>(stmt));
            out.read_only = false;
            break;
        case StmtKind::kUpdate:
            out.plan = impl.PlanUpdate(static_cast<const UpdateStatement&>(stmt));
            out.read_only = false;
            break;
        case StmtKind::kDelete:
            out.plan = impl.PlanDelete(static_cast<const DeleteStatement&>(stmt));
            out.read_only = false;
            break;
        case StmtKind::kTruncate: {
            const auto& t = static_cast<const TruncateStatement&>(stmt);
            auto table = catalog_.FindTable(t.table);
            if (!table) ThrowSqlError(ErrorCode::kUndefinedTable, "table \"" + t.table + "\" does not exist");
            if (table->is_view()) {
                ThrowSqlError(ErrorCode::kFeatureNotSupported, "cannot truncate materialized view \"" + t.table + "\"");
            }
            if (table->is_stream()) {
                ThrowSqlError(ErrorCode::kFeatureNotSupported,
                              "cannot truncate stream \"" + t.table + "\": a stream keeps no rows");
            }
            out.plan = NewNode(PlanKind::kTruncate);
            out.plan->table = table;
            out.read_only = false;
            break;
        }
        default:
            ThrowSqlError(ErrorCode::kInternal, "Planner::Plan called with a DDL statement");
    }
    out.param_count = impl.param_count;
    out.param_types = impl.param_types;
    if (!out.read_only) out.columns = {{"modified_tuples", SqlType::Of(TypeId::kBigInt)}};
    return out;
}

BoundExprPtr Planner::BindTableExpression(const Expr& expr, const catalog::TableDef& table, const char* what) {
    Impl impl(*this, catalog_);
    Scope scope;
    auto def = std::make_shared<const catalog::TableDef>(table);
    TableScope(scope, def);
    if (Impl::ContainsAggregate(expr)) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, std::string("aggregate functions are not allowed in ") + what);
    }
    auto b = impl.Bind(expr, scope, BindMode::kRow);
    if (impl.param_count > 0) {
        ThrowSqlError(ErrorCode::kInvalidDefinition, std::string("parameters are not allowed in ") + what);
    }
    std::vector<const BoundExpr*> stack{b.get()};
    while (!stack.empty()) {
        const BoundExpr* e = stack.back();
        stack.pop_back();
        if (e->subquery)
            ThrowSqlError(ErrorCode::kInvalidDefinition, std::string("subqueries are not allowed in ") + what);
        if (e->kind == BoundKind::kFunction && e->func == ScalarFunc::kNow) {
            ThrowSqlError(ErrorCode::kInvalidDefinition,
                          std::string("CURRENT_TIMESTAMP is not allowed in ") + what + " (it is not deterministic)");
        }
        for (const auto& c : e->children) stack.push_back(c.get());
    }
    return b;
}

}  // namespace surge::sql

// Expression binding: resolves names through the scope chain, checks types, infers parameter
// types from their context, and rewrites aggregate queries' expressions onto the aggregate's
// output row.
#include <algorithm>

#include "common/status.h"
#include "sql/planner_internal.h"
#include "types/value_ops.h"

namespace surge::sql {

namespace {

std::string At(SourcePos p) { return " at " + std::to_string(p.line) + ":" + std::to_string(p.column); }

bool Comparable(TypeId a, TypeId b) {
    if (a == TypeId::kNull || b == TypeId::kNull) return true;
    if (IsNumeric(a) && IsNumeric(b)) return true;
    if (a == b) return true;
    auto ts_like = [](TypeId x) { return x == TypeId::kTimestamp; };
    if (ts_like(a) && (b == TypeId::kVarchar || IsIntegral(b))) return true;
    if (ts_like(b) && (a == TypeId::kVarchar || IsIntegral(a))) return true;
    return false;
}

void CheckComparable(const BoundExpr& l, const BoundExpr& r, SourcePos pos) {
    if (!Comparable(l.type.id, r.type.id)) {
        ThrowSqlError(ErrorCode::kTypeMismatch,
                      "cannot compare " + TypeName(l.type) + " with " + TypeName(r.type) + At(pos));
    }
}

void CheckBoolean(const BoundExpr& e, const char* what, SourcePos pos) {
    if (e.type.id != TypeId::kBoolean && e.type.id != TypeId::kNull) {
        ThrowSqlError(ErrorCode::kTypeMismatch,
                      std::string(what) + " requires a boolean expression, got " + TypeName(e.type) + At(pos));
    }
}

SqlType NumericResult(const BoundExpr& l, const BoundExpr& r, const char* op, SourcePos pos) {
    TypeId a = l.type.id, b = r.type.id;
    if (a == TypeId::kNull && b == TypeId::kNull) return SqlType::Of(TypeId::kNull);
    if (a == TypeId::kNull) a = IsIntegral(b) ? TypeId::kBigInt : b;
    if (b == TypeId::kNull) b = IsIntegral(a) ? TypeId::kBigInt : a;
    if (!IsNumeric(a) || !IsNumeric(b)) {
        ThrowSqlError(ErrorCode::kTypeMismatch, std::string("cannot apply ") + op + " to " + TypeName(l.type) +
                                                    " and " + TypeName(r.type) + At(pos));
    }
    return SqlType::Of(ArithmeticResultType(a, b));
}

}  // namespace

BoundExprPtr MakeConstant(Value v) {
    auto b = std::make_unique<BoundExpr>();
    b->kind = BoundKind::kConstant;
    b->type = SqlType::Of(v.type());
    b->text = LiteralSql(v);
    b->constant = std::move(v);
    return b;
}

BoundExprPtr MakeColumn(int slot, SqlType type, std::string text) {
    auto b = std::make_unique<BoundExpr>();
    b->kind = BoundKind::kColumn;
    b->index = slot;
    b->type = type;
    b->text = std::move(text);
    return b;
}

bool Planner::Impl::IsAggregateName(const std::string& n) {
    return n == "count" || n == "sum" || n == "min" || n == "max" || n == "avg";
}

bool Planner::Impl::ContainsAggregate(const Expr& e) {
    if (e.kind == ExprKind::kFunction && IsAggregateName(e.name) && !e.over) return true;
    for (const Expr* c : e.args) {
        if (c && ContainsAggregate(*c)) return true;
    }
    if (e.over) {
        for (const Expr* p : e.over->partition_by) {
            if (ContainsAggregate(*p)) return true;
        }
        for (const OrderItem& o : e.over->order_by) {
            if (ContainsAggregate(*o.expr)) return true;
        }
    }
    return false;  // subqueries are their own blocks
}

BoundExprPtr Planner::Impl::BindWindow(const Expr& e, Scope& scope, BindMode mode) {
    if (!scope.windows) {
        ThrowSqlError(ErrorCode::kSyntaxError,
                      "window functions are only allowed in the select list and ORDER BY" + At(e.pos));
    }
    const std::string text = ExprToSql(e);
    for (size_t k = 0; k < scope.window_text.size(); ++k) {
        if (scope.window_text[k] == text) {
            auto ref = MakeColumn(kPendingWindowSlot + static_cast<int>(k), (*scope.windows)[k].type, text);
            scope.window_refs.emplace_back(ref.get(), static_cast<int>(k));
            return ref;
        }
    }
    if (e.distinct) ThrowSqlError(ErrorCode::kFeatureNotSupported, "DISTINCT in a window function" + At(e.pos));
    WindowFunc w;
    const bool star = e.args.size() == 1 && e.args[0]->kind == ExprKind::kStar;
    const size_t nargs = star ? 0 : e.args.size();
    auto args = [&](size_t want) {
        if (nargs != want || (star && e.name != "count")) {
            ThrowSqlError(ErrorCode::kUndefinedFunction, e.name + "() OVER takes " + std::to_string(want) +
                                                             " argument" + (want == 1 ? "" : "s") + At(e.pos));
        }
    };
    // Nothing inside may be a window function itself.
    std::vector<WindowFunc>* saved = scope.windows;
    scope.windows = nullptr;
    if (e.name == "row_number" || e.name == "rank" || e.name == "dense_rank") {
        args(0);
        w.kind = e.name == "row_number" ? WindowFuncKind::kRowNumber
                 : e.name == "rank"     ? WindowFuncKind::kRank
                                        : WindowFuncKind::kDenseRank;
        w.type = SqlType::Of(TypeId::kBigInt);
    } else if (e.name == "lag" || e.name == "lead") {
        if (star || nargs < 1 || nargs > 3) {
            ThrowSqlError(ErrorCode::kUndefinedFunction,
                          e.name + "() OVER takes 1 to 3 arguments (value [, offset [, default]])" + At(e.pos));
        }
        w.kind = e.name == "lag" ? WindowFuncKind::kLag : WindowFuncKind::kLead;
        w.arg = Bind(*e.args[0], scope, mode);
        w.type = w.arg->type;
        if (nargs >= 2) {
            const BoundExprPtr offset = Bind(*e.args[1], scope, mode);
            if (offset->kind != BoundKind::kConstant || offset->constant.is_null() ||
                !IsIntegral(offset->constant.type()) || offset->constant.AsInt() < 0) {
                ThrowSqlError(
                    ErrorCode::kInvalidParameter,
                    "the offset of " + e.name + "() must be a non-negative integer constant" + At(e.args[1]->pos));
            }
            w.offset = offset->constant.AsInt();
        }
        if (nargs == 3) {
            w.default_value = Bind(*e.args[2], scope, mode);
            CheckComparable(*w.arg, *w.default_value, e.args[2]->pos);
            if (w.type.id == TypeId::kNull) w.type = w.default_value->type;
        }
    } else if (e.name == "count" && star) {
        w.kind = WindowFuncKind::kCountStar;
        w.type = SqlType::Of(TypeId::kBigInt);
    } else if (IsAggregateName(e.name)) {
        args(1);
        w.arg = Bind(*e.args[0], scope, mode);
        TypeId t = w.arg->type.id;
        if (e.name == "count") {
            w.kind = WindowFuncKind::kCount;
            w.type = SqlType::Of(TypeId::kBigInt);
        } else if (e.name == "min" || e.name == "max") {
            w.kind = e.name == "min" ? WindowFuncKind::kMin : WindowFuncKind::kMax;
            w.type = w.arg->type;
        } else {
            if (!IsNumeric(t) && t != TypeId::kNull) {
                ThrowSqlError(ErrorCode::kTypeMismatch, e.name + "() requires a number" + At(e.pos));
            }
            w.kind = e.name == "sum" ? WindowFuncKind::kSum : WindowFuncKind::kAvg;
            if (w.kind == WindowFuncKind::kSum) {
                w.type = SqlType::Of(IsIntegral(t) || t == TypeId::kNull ? TypeId::kBigInt : t);
            } else {
                w.type = SqlType::Of(t == TypeId::kDecimal ? TypeId::kDecimal : TypeId::kFloat);
            }
        }
    } else {
        ThrowSqlError(ErrorCode::kUndefinedFunction,
                      "unknown window function " + e.name +
                          "() (ROW_NUMBER, RANK, DENSE_RANK, LAG, LEAD, COUNT, SUM, MIN, MAX, AVG)" + At(e.pos));
    }
    for (const Expr* p : e.over->partition_by) w.partition_by.push_back(Bind(*p, scope, mode));
    for (const OrderItem& o : e.over->order_by) {
        w.order_by.push_back(Bind(*o.expr, scope, mode));
        w.order_descending.push_back(o.descending);
        w.order_nulls_first.push_back(o.nulls_first.value_or(!o.descending));
    }
    scope.windows = saved;
    SqlType type = w.type;
    scope.windows->push_back(std::move(w));
    scope.window_text.push_back(text);
    const int k = static_cast<int>(scope.windows->size()) - 1;
    auto ref = MakeColumn(kPendingWindowSlot + k, type, text);
    scope.window_refs.emplace_back(ref.get(), k);
    return ref;
}

void Planner::Impl::NoteParamType(const BoundExpr& maybe_param, SqlType type) {
    if (maybe_param.kind == BoundKind::kParam && type.id != TypeId::kNull && type.id != TypeId::kBoolean) {
        auto& t = param_types[maybe_param.index];
        if (t.id == TypeId::kNull) t = type;
    }
}

BoundExprPtr Planner::Impl::BindColumn(const Expr& e, Scope& scope) {
    int depth = 0;
    for (Scope* s = &scope; s; s = s->parent, ++depth) {
        const ScopeTable* found_table = nullptr;
        int found_col = -1;
        for (const auto& t : s->tables) {
            if (!e.table.empty() && t.name != e.table) continue;
            for (size_t c = 0; c < t.columns.size(); ++c) {
                if (t.columns[c].name != e.name) continue;
                if (found_table) {
                    ThrowSqlError(ErrorCode::kAmbiguousColumn,
                                  "column reference \"" + e.name + "\" is ambiguous" + At(e.pos));
                }
                found_table = &t;
                found_col = static_cast<int>(c);
            }
        }
        if (found_table) {
            // Every block between here and the owner is correlated.
            Scope* m = &scope;
            for (int d = 0; d < depth; ++d, m = m->parent) m->correlated = true;
            if (s->aggregated) {
                // Read after the owner's aggregation (its select list, HAVING, ORDER BY, or a
                // subquery there): only its GROUP BY keys exist, however they were qualified.
                const int slot = found_table->offset + found_col;
                for (size_t i = 0; i < s->group_slot.size(); ++i) {
                    if (s->group_slot[i] == slot) {
                        auto b = MakeColumn(static_cast<int>(i), s->group_types[i], ExprToSql(e));
                        b->depth = depth;
                        return b;
                    }
                }
                ThrowSqlError(ErrorCode::kGroupingError,
                              "column \"" + ExprToSql(e) +
                                  "\" must appear in the GROUP BY clause or be used in an aggregate function" +
                                  At(e.pos));
            }
            auto b = MakeColumn(found_table->offset + found_col, found_table->columns[found_col].type, ExprToSql(e));
            b->depth = depth;
            return b;
        }
        if (!e.table.empty()) {
            bool table_here =
                std::any_of(s->tables.begin(), s->tables.end(), [&](const ScopeTable& t) { return t.name == e.table; });
            if (table_here) {
                ThrowSqlError(ErrorCode::kUndefinedColumn,
                              "column \"" + e.name + "\" does not exist in \"" + e.table + "\"" + At(e.pos));
            }
        }
    }
    if (!e.table.empty()) {
        ThrowSqlError(ErrorCode::kUndefinedTable, "missing FROM entry for table \"" + e.table + "\"" + At(e.pos));
    }
    if (e.name == "current_timestamp" || e.name == "now") {
        auto b = std::make_unique<BoundExpr>();
        b->kind = BoundKind::kFunction;
        b->func = ScalarFunc::kNow;
        b->type = SqlType::Of(TypeId::kTimestamp);
        b->text = "CURRENT_TIMESTAMP";
        return b;
    }
    ThrowSqlError(ErrorCode::kUndefinedColumn, "column \"" + e.name + "\" does not exist" + At(e.pos));
}

BoundExprPtr Planner::Impl::BindAggregate(const Expr& e, Scope& scope) {
    if (!scope.aggregated || !scope.aggs) {
        ThrowSqlError(ErrorCode::kGroupingError, "aggregate function " + e.name + "() is not allowed here" + At(e.pos));
    }
    AggSpec spec;
    bool star = e.args.size() == 1 && e.args[0]->kind == ExprKind::kStar;
    if (star) {
        if (e.name != "count") {
            ThrowSqlError(ErrorCode::kSyntaxError, e.name + "(*) is not valid; only COUNT(*)" + At(e.pos));
        }
        spec.func = AggFunc::kCountStar;
        spec.type = SqlType::Of(TypeId::kBigInt);
    } else {
        if (e.args.size() != 1) {
            ThrowSqlError(ErrorCode::kUndefinedFunction, e.name + "() takes exactly one argument" + At(e.pos));
        }
        // The argument is a row expression of the block (not post-aggregate).
        scope.aggregated = false;
        try {
            spec.arg = Bind(*e.args[0], scope, BindMode::kRow);
        } catch (...) {
            scope.aggregated = true;
            throw;
        }
        scope.aggregated = true;
        if (ContainsAggregate(*e.args[0])) {
            ThrowSqlError(ErrorCode::kGroupingError, "aggregate function calls cannot be nested" + At(e.pos));
        }
        spec.distinct = e.distinct;
        TypeId t = spec.arg->type.id;
        if (e.name == "count") {
            spec.func = AggFunc::kCount;
            spec.type = SqlType::Of(TypeId::kBigInt);
        } else if (e.name == "min" || e.name == "max") {
            spec.func = e.name == "min" ? AggFunc::kMin : AggFunc::kMax;
            spec.type = spec.arg->type;
        } else {
            if (!IsNumeric(t) && t != TypeId::kNull) {
                ThrowSqlError(ErrorCode::kTypeMismatch,
                              e.name + "() requires a numeric argument, got " + TypeName(spec.arg->type) + At(e.pos));
            }
            if (e.name == "sum") {
                spec.func = AggFunc::kSum;
                spec.type = SqlType::Of(IsIntegral(t) || t == TypeId::kNull ? TypeId::kBigInt : t);
            } else {
                spec.func = AggFunc::kAvg;
                spec.type = SqlType::Of(t == TypeId::kDecimal ? TypeId::kDecimal : TypeId::kFloat);
            }
        }
    }
    std::string text = ExprToSql(e);
    int ngroups = static_cast<int>(scope.group_text.size());
    // Equal calls share one aggregate, but the text of a subquery is only "(subquery)": calls over
    // subqueries are never shared.
    const bool shareable = !spec.arg || !HasSubquery(*spec.arg);
    for (size_t i = 0; shareable && i < scope.agg_text.size(); ++i) {
        if (scope.agg_text[i] == text) return MakeColumn(ngroups + static_cast<int>(i), (*scope.aggs)[i].type, text);
    }
    SqlType type = spec.type;
    scope.aggs->push_back(std::move(spec));
    scope.agg_text.push_back(text);
    return MakeColumn(ngroups + static_cast<int>(scope.aggs->size()) - 1, type, text);
}

namespace {

std::string Lower(std::string w) {
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return w;
}

// A time unit or EXTRACT field written as a bare word (`HOUR`) or a string ('HOUR').
std::optional<TimeUnit> UnitOf(const Expr& a) {
    std::string w;
    if (a.kind == ExprKind::kColumnRef && a.table.empty()) {
        w = a.name;
    } else if (a.kind == ExprKind::kLiteral && a.literal.type() == TypeId::kVarchar) {
        w = std::string(a.literal.AsString());
    } else {
        return std::nullopt;
    }
    w = Lower(std::move(w));
    static const std::pair<const char*, TimeUnit> kUnits[] = {
        {"year", TimeUnit::kYear},
        {"quarter", TimeUnit::kQuarter},
        {"month", TimeUnit::kMonth},
        {"week", TimeUnit::kWeek},
        {"day", TimeUnit::kDay},
        {"day_of_month", TimeUnit::kDay},
        {"hour", TimeUnit::kHour},
        {"minute", TimeUnit::kMinute},
        {"second", TimeUnit::kSecond},
        {"millisecond", TimeUnit::kMillisecond},
        {"millis", TimeUnit::kMillisecond},
        {"microsecond", TimeUnit::kMicrosecond},
        {"micros", TimeUnit::kMicrosecond},
        {"day_of_week", TimeUnit::kDayOfWeek},
        {"day_of_year", TimeUnit::kDayOfYear},
        {"week_of_year", TimeUnit::kWeekOfYear},
    };
    for (const auto& [name, unit] : kUnits) {
        if (w == name) return unit;
    }
    return std::nullopt;
}

bool IsTimeFunction(const std::string& n) {
    return n == "truncate" || n == "time_window" || n == "extract" || n == "dateadd" || n == "since_epoch" ||
           n == "to_timestamp";
}

}  // namespace

BoundExprPtr Planner::Impl::BindFunction(const Expr& e, Scope& scope, BindMode mode) {
    if (e.over) return BindWindow(e, scope, mode);
    if (IsAggregateName(e.name)) return BindAggregate(e, scope);
    auto b = std::make_unique<BoundExpr>();
    b->kind = BoundKind::kFunction;
    b->text = ExprToSql(e);
    // Time functions take a unit first (and TIME_WINDOW a START/END last): words, not values.
    const bool time_fn = IsTimeFunction(e.name);
    std::optional<TimeUnit> unit;
    size_t first = 0, last = e.args.size();
    if (time_fn) {
        if (e.args.empty() || !(unit = UnitOf(*e.args[0]))) {
            ThrowSqlError(ErrorCode::kSyntaxError,
                          e.name +
                              "() needs a time unit first (YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE, "
                              "SECOND, MILLISECOND, MICROSECOND)" +
                              At(e.pos));
        }
        first = 1;
        if (e.name == "time_window" && e.args.size() == 4) {
            const Expr& w = *e.args[3];
            std::string word = w.kind == ExprKind::kColumnRef && w.table.empty() ? w.name
                               : w.kind == ExprKind::kLiteral && w.literal.type() == TypeId::kVarchar
                                   ? Lower(std::string(w.literal.AsString()))
                                   : "";
            if (word != "start" && word != "end") {
                ThrowSqlError(ErrorCode::kSyntaxError, "TIME_WINDOW's last argument is START or END" + At(w.pos));
            }
            b->window_end = word == "end";
            last = 3;
        }
    }
    for (size_t i = first; i < last; ++i) {
        const Expr* a = e.args[i];
        if (a->kind == ExprKind::kStar) {
            ThrowSqlError(ErrorCode::kSyntaxError, e.name + "(*) is not valid" + At(e.pos));
        }
        b->children.push_back(Bind(*a, scope, mode));
    }
    if (e.distinct) ThrowSqlError(ErrorCode::kSyntaxError, "DISTINCT is only valid in aggregates" + At(e.pos));
    const size_t n = b->children.size();
    auto arity = [&](size_t lo, size_t hi) {
        if (n < lo || n > hi) {
            ThrowSqlError(ErrorCode::kUndefinedFunction,
                          e.name + "() takes " +
                              (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                              " arguments, got " + std::to_string(n) + At(e.pos));
        }
    };
    auto require_string = [&](size_t i) {
        TypeId t = b->children[i]->type.id;
        NoteParamType(*b->children[i], SqlType::Of(TypeId::kVarchar));
        if (t != TypeId::kVarchar && t != TypeId::kNull) {
            ThrowSqlError(ErrorCode::kTypeMismatch,
                          e.name + "() requires VARCHAR, got " + TypeName(b->children[i]->type) + At(e.pos));
        }
    };
    auto require_string_child = [&](BoundExpr& f, size_t i) {
        NoteParamType(*f.children[i], SqlType::Of(TypeId::kVarchar));
        TypeId t = f.children[i]->type.id;
        if (t != TypeId::kVarchar && t != TypeId::kNull) {
            ThrowSqlError(ErrorCode::kTypeMismatch,
                          e.name + "() requires VARCHAR, got " + TypeName(f.children[i]->type) + At(e.pos));
        }
    };
    auto require_number = [&](size_t i) {
        TypeId t = b->children[i]->type.id;
        NoteParamType(*b->children[i], SqlType::Of(TypeId::kFloat));
        if (!IsNumeric(t) && t != TypeId::kNull) {
            ThrowSqlError(ErrorCode::kTypeMismatch,
                          e.name + "() requires a number, got " + TypeName(b->children[i]->type) + At(e.pos));
        }
        return t;
    };
    auto require_integer = [&](size_t i) {
        TypeId t = b->children[i]->type.id;
        NoteParamType(*b->children[i], SqlType::Of(TypeId::kBigInt));
        if (!IsIntegral(t) && t != TypeId::kNull) {
            ThrowSqlError(ErrorCode::kTypeMismatch,
                          e.name + "() requires an integer, got " + TypeName(b->children[i]->type) + At(e.pos));
        }
    };
    if (e.name == "abs") {
        arity(1, 1);
        TypeId t = b->children[0]->type.id;
        if (!IsNumeric(t) && t != TypeId::kNull) {
            ThrowSqlError(ErrorCode::kTypeMismatch, "abs() requires a number" + At(e.pos));
        }
        b->func = ScalarFunc::kAbs;
        b->type = SqlType::Of(IsIntegral(t) ? TypeId::kBigInt : t);
    } else if (e.name == "coalesce" || e.name == "ifnull") {
        arity(1, 64);
        b->func = ScalarFunc::kCoalesce;
        b->type = SqlType::Of(TypeId::kNull);
        for (auto& c : b->children) {
            if (b->type.id == TypeId::kNull) b->type = c->type;
            CheckComparable(*b->children[0], *c, e.pos);
        }
    } else if (e.name == "nullif") {
        arity(2, 2);
        CheckComparable(*b->children[0], *b->children[1], e.pos);
        b->func = ScalarFunc::kNullIf;
        b->type = b->children[0]->type;
    } else if (e.name == "lower" || e.name == "upper") {
        arity(1, 1);
        require_string(0);
        b->func = e.name == "lower" ? ScalarFunc::kLower : ScalarFunc::kUpper;
        b->type = b->children[0]->type;
    } else if (e.name == "char_length" || e.name == "character_length" || e.name == "length") {
        arity(1, 1);
        require_string(0);
        b->func = ScalarFunc::kCharLength;
        b->type = SqlType::Of(TypeId::kBigInt);
    } else if (e.name == "substring" || e.name == "substr") {
        arity(2, 3);
        require_string(0);
        require_integer(1);
        if (n == 3) require_integer(2);
        b->func = ScalarFunc::kSubstring;
        b->type = b->children[0]->type;
    } else if (e.name == "concat") {
        arity(1, 64);
        b->func = ScalarFunc::kConcat;
        b->type = SqlType::Of(TypeId::kVarchar);
    } else if (e.name == "now" || e.name == "current_timestamp") {
        arity(0, 0);
        b->func = ScalarFunc::kNow;
        b->type = SqlType::Of(TypeId::kTimestamp);
    } else if (e.name == "trim") {
        // TRIM(s), or the keyword form's trim('BOTH'|'LEADING'|'TRAILING', chars, s).
        if (n == 1) {
            b->children.insert(b->children.begin(), MakeConstant(Value::Varchar(" ")));
        } else if (n == 3 && e.args[0]->kind == ExprKind::kLiteral && e.args[0]->literal.type() == TypeId::kVarchar) {
            std::string side = Lower(std::string(e.args[0]->literal.AsString()));
            b->func_arg = side == "both" ? 0 : side == "leading" ? 1 : side == "trailing" ? 2 : -1;
            if (b->func_arg < 0) ThrowSqlError(ErrorCode::kSyntaxError, "TRIM side must be BOTH, LEADING or TRAILING");
            b->children.erase(b->children.begin());
        } else {
            ThrowSqlError(ErrorCode::kUndefinedFunction,
                          "trim() takes one argument, or [LEADING|TRAILING|BOTH] [chars] FROM string" + At(e.pos));
        }
        require_string_child(*b, 0);
        require_string_child(*b, 1);
        b->func = ScalarFunc::kTrim;
        b->type = SqlType::Of(TypeId::kVarchar);
    } else if (e.name == "replace") {
        arity(3, 3);
        for (size_t i = 0; i < 3; ++i) require_string(i);
        b->func = ScalarFunc::kReplace;
        b->type = SqlType::Of(TypeId::kVarchar);
    } else if (e.name == "position") {
        arity(2, 2);
        require_string(0);
        require_string(1);
        b->func = ScalarFunc::kPosition;
        b->type = SqlType::Of(TypeId::kBigInt);
    } else if (e.name == "ceiling" || e.name == "ceil" || e.name == "floor" || e.name == "round") {
        arity(1, e.name == "round" ? 2 : 1);
        TypeId t = require_number(0);
        if (n == 2) require_integer(1);
        b->func = e.name == "floor"   ? ScalarFunc::kFloor
                  : e.name == "round" ? ScalarFunc::kRound
                                      : ScalarFunc::kCeiling;
        b->type = SqlType::Of(IsIntegral(t) || t == TypeId::kNull ? TypeId::kBigInt : t);
    } else if (e.name == "power" || e.name == "sqrt" || e.name == "exp" || e.name == "ln" || e.name == "log") {
        const bool two = e.name == "power";
        arity(two ? 2 : 1, two ? 2 : 1);
        for (size_t i = 0; i < n; ++i) require_number(i);
        b->func = two                ? ScalarFunc::kPower
                  : e.name == "sqrt" ? ScalarFunc::kSqrt
                  : e.name == "exp"  ? ScalarFunc::kExp
                                     : ScalarFunc::kLn;
        b->type = SqlType::Of(TypeId::kFloat);
    } else if (e.name == "mod") {
        // MOD(a, b) is a % b.
        arity(2, 2);
        auto m = std::make_unique<BoundExpr>();
        m->kind = BoundKind::kBinary;
        m->binary_op = BinaryOp::kMod;
        m->type = NumericResult(*b->children[0], *b->children[1], "MOD", e.pos);
        m->text = b->text;
        m->children = std::move(b->children);
        return m;
    } else if (time_fn) {
        b->func_arg = static_cast<int>(*unit);
        auto total_arity = [&](size_t lo, size_t hi) {
            if (e.args.size() < lo || e.args.size() > hi) {
                ThrowSqlError(ErrorCode::kUndefinedFunction,
                              e.name + "() takes " +
                                  (lo == hi ? std::to_string(lo) : std::to_string(lo) + " or " + std::to_string(hi)) +
                                  " arguments, got " + std::to_string(e.args.size()) + At(e.pos));
            }
        };
        const bool extract_field = *unit >= TimeUnit::kDayOfWeek;
        const bool month_based = *unit == TimeUnit::kYear || *unit == TimeUnit::kQuarter || *unit == TimeUnit::kMonth;
        auto bad_unit = [&](const char* allowed) {
            ThrowSqlError(ErrorCode::kSyntaxError,
                          e.name + "() does not take that unit (" + allowed + ")" + At(e.args[0]->pos));
        };
        auto require_timestamp = [&](size_t i) {
            NoteParamType(*b->children[i], SqlType::Of(TypeId::kTimestamp));
            TypeId t = b->children[i]->type.id;
            if (t != TypeId::kTimestamp && t != TypeId::kNull) {
                ThrowSqlError(ErrorCode::kTypeMismatch,
                              e.name + "() requires a TIMESTAMP, got " + TypeName(b->children[i]->type) + At(e.pos));
            }
        };
        b->type = SqlType::Of(TypeId::kTimestamp);
        if (e.name == "truncate") {
            total_arity(2, 2);
            if (extract_field || *unit == TimeUnit::kMicrosecond) bad_unit("YEAR down to MILLISECOND");
            require_timestamp(0);
            b->func = ScalarFunc::kTruncateTime;
        } else if (e.name == "time_window") {
            total_arity(3, 4);
            if (extract_field) bad_unit("YEAR down to MICROSECOND");
            require_integer(0);
            require_timestamp(1);
            b->func = ScalarFunc::kTimeWindow;
        } else if (e.name == "extract") {
            total_arity(2, 2);
            if (*unit >= TimeUnit::kMillisecond && !extract_field) {
                bad_unit(
                    "YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE, SECOND, DAY_OF_WEEK, DAY_OF_YEAR, WEEK_OF_YEAR");
            }
            require_timestamp(0);
            b->func = ScalarFunc::kExtract;
            b->type = SqlType::Of(*unit == TimeUnit::kSecond ? TypeId::kDecimal : TypeId::kInteger);
        } else if (e.name == "dateadd") {
            total_arity(3, 3);
            if (extract_field) bad_unit("YEAR down to MICROSECOND");
            require_integer(0);
            require_timestamp(1);
            b->func = ScalarFunc::kDateAdd;
        } else if (e.name == "since_epoch" || e.name == "to_timestamp") {
            total_arity(2, 2);
            if (extract_field || month_based) bad_unit("WEEK down to MICROSECOND");
            if (e.name == "since_epoch") {
                require_timestamp(0);
                b->func = ScalarFunc::kSinceEpoch;
                b->type = SqlType::Of(TypeId::kBigInt);
            } else {
                require_integer(0);
                b->func = ScalarFunc::kToTimestamp;
            }
        }
    } else {
        ThrowSqlError(ErrorCode::kUndefinedFunction, "unknown function " + e.name + "()" + At(e.pos));
    }
    return b;
}

BoundExprPtr Planner::Impl::BindSubquery(const Expr& e, Scope& scope, BindMode mode) {
    auto b = std::make_unique<BoundExpr>();
    b->text = ExprToSql(e);
    Scope* parent = &scope;
    if (e.kind == ExprKind::kInSubquery) {
        b->kind = BoundKind::kInSubquery;
        b->negated = e.negated;
        b->children.push_back(Bind(*e.args[0], scope, mode));
    } else {
        b->kind = e.kind == ExprKind::kExists ? BoundKind::kExists : BoundKind::kScalarSubquery;
    }
    // The subquery's block sees this block's row through depth 1.
    PlanPtr plan = PlanSelect(*e.subquery, parent);
    b->subquery_correlated = last_plan_correlated;
    if (b->kind != BoundKind::kExists) {
        size_t width = plan->visible_columns ? plan->visible_columns : plan->output.size();
        if (width != 1) {
            ThrowSqlError(ErrorCode::kSyntaxError,
                          "subquery must return exactly one column, got " + std::to_string(width) + At(e.pos));
        }
    }
    if (b->kind == BoundKind::kScalarSubquery) {
        b->type = plan->output[0].type;
    } else {
        b->type = SqlType::Of(TypeId::kBoolean);
        if (b->kind == BoundKind::kInSubquery) {
            BoundExpr probe;
            probe.type = plan->output[0].type;
            CheckComparable(*b->children[0], probe, e.pos);
        }
    }
    b->subquery = std::shared_ptr<PlanNode>(std::move(plan));
    return b;
}

BoundExprPtr Planner::Impl::Bind(const Expr& e, Scope& scope, BindMode mode) {
    struct DepthGuard {
        int& d;
        explicit DepthGuard(int& x) : d(x) { ++d; }
        ~DepthGuard() { --d; }
    } guard(depth_guard);
    if (depth_guard > kMaxNestingDepth) {
        ThrowSqlError(ErrorCode::kLimitExceeded,
                      "expression nested deeper than " + std::to_string(kMaxNestingDepth) + " levels" + At(e.pos));
    }
    if (mode == BindMode::kPostAggregate) {
        std::string text = ExprToSql(e);
        for (size_t i = 0; i < scope.group_text.size(); ++i) {
            if (scope.group_text[i] == text) return MakeColumn(static_cast<int>(i), scope.group_types[i], text);
        }
    }
    switch (e.kind) {
        case ExprKind::kLiteral:
            return MakeConstant(e.literal);
        case ExprKind::kParam: {
            auto b = std::make_unique<BoundExpr>();
            b->kind = BoundKind::kParam;
            b->index = e.param_index;
            b->text = "?" + std::to_string(e.param_index + 1);
            if (e.param_index >= param_count) {
                param_count = e.param_index + 1;
                param_types.resize(param_count);
            }
            b->type = param_types[e.param_index];
            return b;
        }
        case ExprKind::kColumnRef:
            return BindColumn(e, scope);
        case ExprKind::kStar:
            ThrowSqlError(ErrorCode::kSyntaxError, "* is not valid in this position" + At(e.pos));
        case ExprKind::kFunction:
            return BindFunction(e, scope, mode);
        case ExprKind::kSubquery:
        case ExprKind::kExists:
        case ExprKind::kInSubquery:
            return BindSubquery(e, scope, mode);
        default:
            break;
    }
    auto b = std::make_unique<BoundExpr>();
    b->text = ExprToSql(e);
    b->negated = e.negated;
    for (const Expr* c : e.args) b->children.push_back(Bind(*c, scope, mode));
    auto& ch = b->children;
    switch (e.kind) {
        case ExprKind::kUnary:
            b->kind = BoundKind::kUnary;
            b->unary_op = e.unary_op;
            if (e.unary_op == UnaryOp::kNot) {
                CheckBoolean(*ch[0], "NOT", e.pos);
                b->type = SqlType::Of(TypeId::kBoolean);
            } else {
                TypeId t = ch[0]->type.id;
                if (!IsNumeric(t) && t != TypeId::kNull) {
                    ThrowSqlError(ErrorCode::kTypeMismatch, "cannot negate " + TypeName(ch[0]->type) + At(e.pos));
                }
                b->type = SqlType::Of(IsIntegral(t) ? TypeId::kBigInt : t);
            }
            return b;
        case ExprKind::kBinary: {
            b->kind = BoundKind::kBinary;
            b->binary_op = e.binary_op;
            switch (e.binary_op) {
                case BinaryOp::kAnd:
                case BinaryOp::kOr:
                    CheckBoolean(*ch[0], BinaryOpText(e.binary_op), e.pos);
                    CheckBoolean(*ch[1], BinaryOpText(e.binary_op), e.pos);
                    b->type = SqlType::Of(TypeId::kBoolean);
                    break;
                case BinaryOp::kEq:
                case BinaryOp::kNe:
                case BinaryOp::kLt:
                case BinaryOp::kLe:
                case BinaryOp::kGt:
                case BinaryOp::kGe:
                    CheckComparable(*ch[0], *ch[1], e.pos);
                    NoteParamType(*ch[0], ch[1]->type);
                    NoteParamType(*ch[1], ch[0]->type);
                    b->type = SqlType::Of(TypeId::kBoolean);
                    break;
                case BinaryOp::kConcat:
                    b->type = SqlType::Of(TypeId::kVarchar);
                    break;
                default:
                    NoteParamType(*ch[0], ch[1]->type);
                    NoteParamType(*ch[1], ch[0]->type);
                    b->type = NumericResult(*ch[0], *ch[1], BinaryOpText(e.binary_op), e.pos);
                    break;
            }
            return b;
        }
        case ExprKind::kCase: {
            b->kind = BoundKind::kCase;
            b->case_has_operand = e.case_has_operand;
            b->case_has_else = e.case_has_else;
            size_t i = e.case_has_operand ? 1 : 0;
            size_t end = ch.size() - (e.case_has_else ? 1 : 0);
            b->type = SqlType::Of(TypeId::kNull);
            for (; i < end; i += 2) {
                if (e.case_has_operand) {
                    CheckComparable(*ch[0], *ch[i], e.pos);
                } else {
                    CheckBoolean(*ch[i], "CASE WHEN", e.pos);
                }
                if (b->type.id == TypeId::kNull) b->type = ch[i + 1]->type;
            }
            if (e.case_has_else && b->type.id == TypeId::kNull) b->type = ch.back()->type;
            // Result type: numeric branches promote (INTEGER and DECIMAL give DECIMAL, ...).
            for (size_t k = e.case_has_operand ? 2 : 1; k < ch.size(); k += 2) {
                TypeId t = ch[k]->type.id;
                if (IsNumeric(t) && IsNumeric(b->type.id) && t != b->type.id) {
                    b->type = SqlType::Of(ArithmeticResultType(b->type.id, t));
                }
                if (k + 2 >= end && e.case_has_else) {
                    TypeId et = ch.back()->type.id;
                    if (IsNumeric(et) && IsNumeric(b->type.id) && et != b->type.id) {
                        b->type = SqlType::Of(ArithmeticResultType(b->type.id, et));
                    }
                }
            }
            return b;
        }
        case ExprKind::kCast:
            b->kind = BoundKind::kCast;
            b->type = e.cast_type;
            return b;
        case ExprKind::kInList:
            b->kind = BoundKind::kInList;
            for (size_t i = 1; i < ch.size(); ++i) {
                CheckComparable(*ch[0], *ch[i], e.pos);
                NoteParamType(*ch[i], ch[0]->type);
            }
            b->type = SqlType::Of(TypeId::kBoolean);
            return b;
        case ExprKind::kBetween:
            b->kind = BoundKind::kBinary;  // rewritten: x >= lo AND x <= hi (or NOT of it)
            {
                // Re-bind x for the second comparison (cheap, keeps ownership simple).
                BoundExprPtr x_copy = Bind(*e.args[0], scope, mode);
                CheckComparable(*ch[0], *ch[1], e.pos);
                CheckComparable(*ch[0], *ch[2], e.pos);
                NoteParamType(*ch[1], ch[0]->type);
                NoteParamType(*ch[2], ch[0]->type);
                auto ge = std::make_unique<BoundExpr>();
                ge->kind = BoundKind::kBinary;
                ge->binary_op = BinaryOp::kGe;
                ge->type = SqlType::Of(TypeId::kBoolean);
                ge->text = ch[0]->text + " >= " + ch[1]->text;
                ge->children.push_back(std::move(ch[0]));
                ge->children.push_back(std::move(ch[1]));
                auto le = std::make_unique<BoundExpr>();
                le->kind = BoundKind::kBinary;
                le->binary_op = BinaryOp::kLe;
                le->type = SqlType::Of(TypeId::kBoolean);
                le->text = x_copy->text + " <= " + ch[2]->text;
                le->children.push_back(std::move(x_copy));
                le->children.push_back(std::move(ch[2]));
                auto both = std::make_unique<BoundExpr>();
                both->kind = BoundKind::kBinary;
                both->binary_op = BinaryOp::kAnd;
                both->type = SqlType::Of(TypeId::kBoolean);
                both->text = b->text;
                both->children.push_back(std::move(ge));
                both->children.push_back(std::move(le));
                if (!e.negated) return both;
                auto n = std::make_unique<BoundExpr>();
                n->kind = BoundKind::kUnary;
                n->unary_op = UnaryOp::kNot;
                n->type = SqlType::Of(TypeId::kBoolean);
                n->text = b->text;
                n->children.push_back(std::move(both));
                return n;
            }
        case ExprKind::kLike:
            b->kind = BoundKind::kLike;
            for (auto& c : ch) {
                NoteParamType(*c, SqlType::Of(TypeId::kVarchar));
                if (c->type.id != TypeId::kVarchar && c->type.id != TypeId::kNull) {
                    ThrowSqlError(ErrorCode::kTypeMismatch,
                                  "LIKE requires VARCHAR operands, got " + TypeName(c->type) + At(e.pos));
                }
            }
            b->type = SqlType::Of(TypeId::kBoolean);
            return b;
        case ExprKind::kIsNull:
            b->kind = BoundKind::kIsNull;
            b->type = SqlType::Of(TypeId::kBoolean);
            return b;
        case ExprKind::kIsDistinctFrom:
            b->kind = BoundKind::kIsDistinctFrom;
            CheckComparable(*ch[0], *ch[1], e.pos);
            b->type = SqlType::Of(TypeId::kBoolean);
            return b;
        default:
            break;
    }
    ThrowSqlError(ErrorCode::kInternal, "unhandled expression kind in binder" + At(e.pos));
}

bool HasSubquery(const BoundExpr& e) {
    if (e.subquery) return true;
    for (const auto& c : e.children) {
        if (HasSubquery(*c)) return true;
    }
    return false;
}

bool SameExpr(const BoundExpr& a, const BoundExpr& b) {
    if (a.kind != b.kind || a.index != b.index || a.depth != b.depth || a.binary_op != b.binary_op ||
        a.unary_op != b.unary_op || a.func != b.func || a.negated != b.negated || !(a.type == b.type) ||
        a.children.size() != b.children.size() || a.subquery || b.subquery) {
        return false;
    }
    if (a.kind == BoundKind::kConstant) {
        if (a.constant.is_null() != b.constant.is_null()) return false;
        if (!a.constant.is_null() && !GroupEquals(a.constant, b.constant)) return false;
    }
    for (size_t i = 0; i < a.children.size(); ++i) {
        if (!SameExpr(*a.children[i], *b.children[i])) return false;
    }
    return true;
}

}  // namespace surge::sql

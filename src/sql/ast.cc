// Rendering expressions back to SQL text.
#include "sql/ast.h"

namespace surge::sql {

const char* BinaryOpText(BinaryOp op) {
    switch (op) {
        case BinaryOp::kAdd:
            return "+";
        case BinaryOp::kSub:
            return "-";
        case BinaryOp::kMul:
            return "*";
        case BinaryOp::kDiv:
            return "/";
        case BinaryOp::kMod:
            return "%";
        case BinaryOp::kConcat:
            return "||";
        case BinaryOp::kEq:
            return "=";
        case BinaryOp::kNe:
            return "<>";
        case BinaryOp::kLt:
            return "<";
        case BinaryOp::kLe:
            return "<=";
        case BinaryOp::kGt:
            return ">";
        case BinaryOp::kGe:
            return ">=";
        case BinaryOp::kAnd:
            return "AND";
        case BinaryOp::kOr:
            return "OR";
    }
    return "?";
}

namespace {

std::string Quote(const std::string& s, char q) {
    std::string out(1, q);
    for (char c : s) {
        out += c;
        if (c == q) out += q;
    }
    out += q;
    return out;
}

std::string Ident(const std::string& s) {
    bool plain = !s.empty() && !(s[0] >= '0' && s[0] <= '9');
    for (char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) plain = false;
    }
    return plain ? s : Quote(s, '"');
}

}  // namespace

std::string LiteralSql(const Value& v) {
    if (v.is_null()) return "NULL";
    switch (v.type()) {
        case TypeId::kVarchar:
            return Quote(std::string(v.AsString()), '\'');
        case TypeId::kVarbinary:
            return "x'" + v.ToString() + "'";
        case TypeId::kTimestamp:
            return "CAST(" + Quote(v.ToString(), '\'') + " AS TIMESTAMP)";
        case TypeId::kBoolean:
            return v.AsBool() ? "TRUE" : "FALSE";
        case TypeId::kFloat: {
            std::string s = v.ToString();
            if (s.find_first_of(".eEnN") == std::string::npos) s += "e0";
            return s;
        }
        default:
            return v.ToString();
    }
}

namespace {

// Appends e's SQL to *out: linear in the text's length (returning strings level by level would
// copy every subtree once per level above it).
void AppendSql(const Expr& e, std::string* out) {
    auto arg = [&](size_t i) { AppendSql(*e.args[i], out); };
    auto put = [&](std::string_view s) { out->append(s); };
    switch (e.kind) {
        case ExprKind::kLiteral:
            put(LiteralSql(e.literal));
            return;
        case ExprKind::kParam:
            put("?");
            return;
        case ExprKind::kColumnRef:
            if (!e.table.empty()) {
                put(Ident(e.table));
                put(".");
            }
            put(Ident(e.name));
            return;
        case ExprKind::kStar:
            if (!e.table.empty()) {
                put(Ident(e.table));
                put(".");
            }
            put("*");
            return;
        case ExprKind::kUnary:
            put(e.unary_op == UnaryOp::kNot ? "(NOT " : "(-");
            arg(0);
            put(")");
            return;
        case ExprKind::kBinary:
            put("(");
            arg(0);
            put(" ");
            put(BinaryOpText(e.binary_op));
            put(" ");
            arg(1);
            put(")");
            return;
        case ExprKind::kFunction:
            put(e.name);
            put("(");
            if (e.distinct) put("DISTINCT ");
            for (size_t i = 0; i < e.args.size(); ++i) {
                if (i) put(", ");
                arg(i);
            }
            put(")");
            if (e.over) {
                put(" OVER (");
                for (size_t i = 0; i < e.over->partition_by.size(); ++i) {
                    put(i ? ", " : "PARTITION BY ");
                    AppendSql(*e.over->partition_by[i], out);
                }
                for (size_t i = 0; i < e.over->order_by.size(); ++i) {
                    const OrderItem& o = e.over->order_by[i];
                    put(i ? ", " : e.over->partition_by.empty() ? "ORDER BY " : " ORDER BY ");
                    AppendSql(*o.expr, out);
                    if (o.descending) put(" DESC");
                    if (o.nulls_first) put(*o.nulls_first ? " NULLS FIRST" : " NULLS LAST");
                }
                put(")");
            }
            return;
        case ExprKind::kCase: {
            put("CASE");
            size_t i = 0;
            if (e.case_has_operand) {
                put(" ");
                arg(i++);
            }
            size_t end = e.args.size() - (e.case_has_else ? 1 : 0);
            for (; i + 1 < end + 1 && i < end; i += 2) {
                put(" WHEN ");
                arg(i);
                put(" THEN ");
                arg(i + 1);
            }
            if (e.case_has_else) {
                put(" ELSE ");
                arg(e.args.size() - 1);
            }
            put(" END");
            return;
        }
        case ExprKind::kCast:
            put("CAST(");
            arg(0);
            put(" AS ");
            put(TypeName(e.cast_type));
            put(")");
            return;
        case ExprKind::kInList:
            put("(");
            arg(0);
            put(e.negated ? " NOT IN (" : " IN (");
            for (size_t i = 1; i < e.args.size(); ++i) {
                if (i > 1) put(", ");
                arg(i);
            }
            put("))");
            return;
        case ExprKind::kInSubquery:
            put("(");
            arg(0);
            put(e.negated ? " NOT IN (subquery))" : " IN (subquery))");
            return;
        case ExprKind::kExists:
            put("EXISTS (subquery)");
            return;
        case ExprKind::kSubquery:
            put("(subquery)");
            return;
        case ExprKind::kBetween:
            put("(");
            arg(0);
            put(e.negated ? " NOT BETWEEN " : " BETWEEN ");
            arg(1);
            put(" AND ");
            arg(2);
            put(")");
            return;
        case ExprKind::kLike:
            put("(");
            arg(0);
            put(e.negated ? " NOT LIKE " : " LIKE ");
            arg(1);
            if (e.args.size() > 2) {
                put(" ESCAPE ");
                arg(2);
            }
            put(")");
            return;
        case ExprKind::kIsNull:
            put("(");
            arg(0);
            put(e.negated ? " IS NOT NULL)" : " IS NULL)");
            return;
        case ExprKind::kIsDistinctFrom:
            put("(");
            arg(0);
            put(e.negated ? " IS NOT DISTINCT FROM " : " IS DISTINCT FROM ");
            arg(1);
            put(")");
            return;
    }
    put("?");
}

}  // namespace

std::string ExprToSql(const Expr& e) {
    std::string out;
    AppendSql(e, &out);
    return out;
}

}  // namespace surge::sql

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

}  // namespace

std::string ExprToSql(const Expr& e) {
    auto arg = [&](size_t i) { return ExprToSql(*e.args[i]); };
    switch (e.kind) {
        case ExprKind::kLiteral:
            return LiteralSql(e.literal);
        case ExprKind::kParam:
            return "?";
        case ExprKind::kColumnRef:
            return e.table.empty() ? Ident(e.name) : Ident(e.table) + "." + Ident(e.name);
        case ExprKind::kStar:
            return e.table.empty() ? "*" : Ident(e.table) + ".*";
        case ExprKind::kUnary:
            if (e.unary_op == UnaryOp::kNot) return "(NOT " + arg(0) + ")";
            return "(-" + arg(0) + ")";
        case ExprKind::kBinary:
            return "(" + arg(0) + " " + BinaryOpText(e.binary_op) + " " + arg(1) + ")";
        case ExprKind::kFunction: {
            std::string s = e.name + "(";
            if (e.distinct) s += "DISTINCT ";
            for (size_t i = 0; i < e.args.size(); ++i) s += (i ? ", " : "") + arg(i);
            return s + ")";
        }
        case ExprKind::kCase: {
            std::string s = "CASE";
            size_t i = 0;
            if (e.case_has_operand) s += " " + arg(i++);
            size_t end = e.args.size() - (e.case_has_else ? 1 : 0);
            for (; i + 1 < end + 1 && i < end; i += 2) s += " WHEN " + arg(i) + " THEN " + arg(i + 1);
            if (e.case_has_else) s += " ELSE " + arg(e.args.size() - 1);
            return s + " END";
        }
        case ExprKind::kCast:
            return "CAST(" + arg(0) + " AS " + TypeName(e.cast_type) + ")";
        case ExprKind::kInList: {
            std::string s = "(" + arg(0) + (e.negated ? " NOT IN (" : " IN (");
            for (size_t i = 1; i < e.args.size(); ++i) s += (i > 1 ? ", " : "") + arg(i);
            return s + "))";
        }
        case ExprKind::kInSubquery:
            return "(" + arg(0) + (e.negated ? " NOT IN (subquery))" : " IN (subquery))");
        case ExprKind::kExists:
            return "EXISTS (subquery)";
        case ExprKind::kSubquery:
            return "(subquery)";
        case ExprKind::kBetween:
            return "(" + arg(0) + (e.negated ? " NOT BETWEEN " : " BETWEEN ") + arg(1) + " AND " + arg(2) + ")";
        case ExprKind::kLike: {
            std::string s = "(" + arg(0) + (e.negated ? " NOT LIKE " : " LIKE ") + arg(1);
            if (e.args.size() > 2) s += " ESCAPE " + arg(2);
            return s + ")";
        }
        case ExprKind::kIsNull:
            return "(" + arg(0) + (e.negated ? " IS NOT NULL)" : " IS NULL)");
        case ExprKind::kIsDistinctFrom:
            return "(" + arg(0) + (e.negated ? " IS NOT DISTINCT FROM " : " IS DISTINCT FROM ") + arg(1) + ")";
    }
    return "?";
}

}  // namespace surge::sql

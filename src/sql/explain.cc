// EXPLAIN: a plan as indented text, one operator a line.
#include <string>

#include "sql/plan.h"

namespace surge::sql {

namespace {

void Explain(const PlanNode& n, int depth, std::string* out) {
    std::string line(static_cast<size_t>(depth) * 2, ' ');
    switch (n.kind) {
        case PlanKind::kSeqScan:
            line += "SEQUENTIAL SCAN of \"" + n.table->name + "\"";
            break;
        case PlanKind::kIndexScan: {
            const auto& a = n.access;
            line += "INDEX SCAN of \"" + n.table->name + "\" using \"" + a.index + "\"";
            if (!a.eq_keys.empty()) {
                line += " (";
                for (size_t i = 0; i < a.eq_keys.size(); ++i) {
                    line += (i ? ", " : "") + std::string("key") + std::to_string(i + 1) +
                            (a.eq_is_null[i] ? " IS NULL" : " = " + a.eq_keys[i]->text);
                }
                line += ")";
            }
            if (a.lower) line += std::string(" from ") + (a.lower_inclusive ? ">= " : "> ") + a.lower->text;
            if (a.upper) line += std::string(" to ") + (a.upper_inclusive ? "<= " : "< ") + a.upper->text;
            if (a.reverse) line += " reverse order";
            break;
        }
        case PlanKind::kOneRow:
            line += "ONE ROW";
            break;
        case PlanKind::kFilter:
            line += "FILTER";
            break;
        case PlanKind::kProject: {
            line += "PROJECT";
            for (size_t i = 0; i < n.exprs.size(); ++i) line += (i ? ", " : " ") + n.exprs[i]->text;
            break;
        }
        case PlanKind::kNestedLoopJoin:
            line += n.join_type == JoinType::kLeft    ? "NESTED LOOP LEFT JOIN"
                    : n.join_type == JoinType::kRight ? "NESTED LOOP RIGHT JOIN"
                    : n.join_type == JoinType::kFull  ? "NESTED LOOP FULL JOIN"
                                                      : "NESTED LOOP JOIN";
            break;
        case PlanKind::kHashJoin:
            line += n.join_type == JoinType::kLeft ? "HASH LEFT JOIN on" : "HASH JOIN on";
            for (size_t i = 0; i < n.hash_left_keys.size(); ++i) {
                line += (i ? ", " : " ") + n.hash_left_keys[i]->text + " = " + n.hash_right_keys[i]->text;
            }
            break;
        case PlanKind::kAggregate: {
            line += n.group_by.empty() ? "AGGREGATE" : "HASH AGGREGATE by";
            for (size_t i = 0; i < n.group_by.size(); ++i) line += (i ? ", " : " ") + n.group_by[i]->text;
            break;
        }
        case PlanKind::kSort:
            line += "SORT";
            break;
        case PlanKind::kLimit:
            line += "LIMIT";
            break;
        case PlanKind::kDistinct:
            line += "DISTINCT";
            break;
        case PlanKind::kWindow:
            line += "WINDOW";
            for (size_t k = 0; k < n.windows.size(); ++k)
                line += (k ? ", " : " ") + n.output[n.output.size() - n.windows.size() + k].name;
            break;
        case PlanKind::kSetOp:
            line += n.set_op == SetOp::kUnion       ? "UNION"
                    : n.set_op == SetOp::kUnionAll  ? "UNION ALL"
                    : n.set_op == SetOp::kIntersect ? "INTERSECT"
                                                    : "EXCEPT";
            break;
        case PlanKind::kInsert:
            line += (n.upsert ? "UPSERT into \"" : "INSERT into \"") + n.table->name + "\"";
            break;
        case PlanKind::kUpdate:
            line += "UPDATE \"" + n.table->name + "\"";
            break;
        case PlanKind::kDelete:
            line += "DELETE from \"" + n.table->name + "\"";
            break;
        case PlanKind::kTruncate:
            line += "TRUNCATE \"" + n.table->name + "\"";
            break;
    }
    if (n.filter && n.kind != PlanKind::kFilter) line += " filter " + n.filter->text;
    if (n.filter && n.kind == PlanKind::kFilter) line += " " + n.filter->text;
    *out += line;
    *out += '\n';
    for (const auto& c : n.children) Explain(*c, depth + 1, out);
}

}  // namespace

std::string ExplainPlan(const PlanNode& plan) {
    std::string out;
    Explain(plan, 0, &out);
    return out;
}

}  // namespace surge::sql

// AstBuilder implementation: node construction, identifier folding and literal decoding.
#include "sql/ast_builder.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "common/status.h"
#include "types/decimal.h"

namespace surge::sql {

namespace {

std::string Lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string Upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string PosText(SourcePos p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

}  // namespace

std::string AstBuilder::Identifier(const Token& tok) {
    std::string_view t = tok.text;
    if (t.empty()) return {};
    char q = t.front();
    if (q == '"' || q == '`' || q == '[') {
        char close = q == '[' ? ']' : q;
        std::string out;
        for (size_t i = 1; i + 1 < t.size(); ++i) {
            out += t[i];
            if (t[i] == close && i + 2 < t.size() && t[i + 1] == close) ++i;
        }
        return out;
    }
    return Lower(t);
}

namespace {

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool SameWord(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

// The word ending before offset end of text (skipping spaces), and where it starts.
std::string_view WordBefore(std::string_view text, size_t end, size_t* start) {
    while (end > 0 && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
    size_t b = end;
    while (b > 0 && IsWordChar(text[b - 1])) --b;
    *start = b;
    return text.substr(b, end - b);
}

// The word starting after offset begin of text (skipping spaces).
std::string_view WordAfter(std::string_view text, size_t begin) {
    while (begin < text.size() && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
    size_t e = begin;
    while (e < text.size() && IsWordChar(text[e])) ++e;
    return text.substr(begin, e - begin);
}

// A syntax error that is really a feature SurgeDB does not have (docs/sql-compatibility.md, "Not
// supported yet"): what to add to the message, or "".
std::string UnsupportedHint(std::string_view text, std::string_view tok) {
    if (tok.data() < text.data() || tok.data() + tok.size() > text.data() + text.size()) return "";
    const size_t at = static_cast<size_t>(tok.data() - text.data());
    size_t start = 0, ignored = 0;
    std::string_view before = WordBefore(text, at, &start);
    if (SameWord(before, "RECURSIVE") && SameWord(WordBefore(text, start, &ignored), "WITH")) {
        return ": WITH RECURSIVE is not supported";
    }
    if (SameWord(tok, "ROWS") || SameWord(tok, "RANGE") || SameWord(tok, "GROUPS")) {
        std::string_view next = WordAfter(text, at + tok.size());
        if (SameWord(next, "BETWEEN") || SameWord(next, "UNBOUNDED") || SameWord(next, "CURRENT") ||
            (!next.empty() && std::isdigit(static_cast<unsigned char>(next[0])))) {
            return ": window frames (ROWS, RANGE, GROUPS) are not supported; a window function with ORDER BY "
                   "covers the partition up to the current row and its peers, without ORDER BY the whole partition";
        }
    }
    return "";
}

}  // namespace

void AstBuilder::SyntaxError(const Token& tok) {
    failed_ = true;
    if (tok.text.empty()) {
        ThrowSqlError(ErrorCode::kSyntaxError, "syntax error at " + PosText(tok.pos) + ": unexpected end of input");
    }
    ThrowSqlError(ErrorCode::kSyntaxError, "syntax error at " + PosText(tok.pos) + " near \"" + std::string(tok.text) +
                                               "\"" + UnsupportedHint(text_, tok.text.view()));
}

void AstBuilder::StackOverflow() {
    failed_ = true;
    ThrowSqlError(ErrorCode::kLimitExceeded, "statement too deeply nested (parser stack exhausted)");
}

void AstBuilder::Fail(const Token& tok, const std::string& message) {
    failed_ = true;
    ThrowSqlError(ErrorCode::kSyntaxError, message + " at " + PosText(tok.pos));
}

void AstBuilder::AddStatement(Statement* s) {
    statements_.push_back(s);
    next_param_ = 0;
}

void AstBuilder::CheckDepth(int depth, SourcePos pos) {
    if (depth > kMaxNestingDepth) {
        failed_ = true;
        ThrowSqlError(ErrorCode::kLimitExceeded,
                      "statement nested too deeply (more than " + std::to_string(kMaxNestingDepth) +
                          " levels of expressions, subqueries, joins or set operations) at " + PosText(pos));
    }
}

Expr* AstBuilder::Nested(Expr* e) {
    int d = e->subquery ? e->subquery->depth : 0;
    for (const Expr* a : e->args) d = std::max(d, a->depth);
    e->depth = d + 1;
    CheckDepth(e->depth, e->pos);
    return e;
}

Expr* AstBuilder::NewExpr(ExprKind kind, SourcePos pos) {
    Expr* e = arena_->New<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
}

// ---------------------------------------------------------------- statements

Statement* AstBuilder::SelectStatement(SelectStmt* s) {
    auto* st = arena_->New<struct SelectStatement>();
    st->pos = s->pos;
    st->select = s;
    return st;
}

Statement* AstBuilder::Explain(Statement* s) {
    auto* st = arena_->New<ExplainStatement>();
    st->pos = s->pos;
    st->statement = s;
    return st;
}

Statement* AstBuilder::InsertValues(int upsert, const Token& table, std::vector<std::string>* cols,
                                    std::vector<std::vector<Expr*>>* rows) {
    auto* st = arena_->New<InsertStatement>();
    st->pos = table.pos;
    st->upsert = upsert != 0;
    st->table = Identifier(table);
    if (cols) st->columns = std::move(*cols);
    st->rows = std::move(*rows);
    return st;
}

Statement* AstBuilder::InsertSelect(int upsert, const Token& table, std::vector<std::string>* cols, SelectStmt* s) {
    auto* st = arena_->New<InsertStatement>();
    st->pos = table.pos;
    st->upsert = upsert != 0;
    st->table = Identifier(table);
    if (cols) st->columns = std::move(*cols);
    st->select = s;
    return st;
}

Statement* AstBuilder::Update(const Token& kw, const Token& table, std::vector<std::pair<std::string, Expr*>>* sets,
                              Expr* where) {
    auto* st = arena_->New<UpdateStatement>();
    st->pos = kw.pos;
    st->table = Identifier(table);
    st->assignments = std::move(*sets);
    st->where = where;
    return st;
}

Statement* AstBuilder::Delete(const Token& kw, const Token& table, Expr* where) {
    auto* st = arena_->New<DeleteStatement>();
    st->pos = kw.pos;
    st->table = Identifier(table);
    st->where = where;
    return st;
}

Statement* AstBuilder::Truncate(const Token& kw, const Token& table) {
    auto* st = arena_->New<TruncateStatement>();
    st->pos = kw.pos;
    st->table = Identifier(table);
    return st;
}

CreateTableStatement* AstBuilder::StartCreateTable(const Token& kw, int if_not_exists, const Token& name) {
    auto* st = arena_->New<CreateTableStatement>();
    st->pos = kw.pos;
    st->name = Identifier(name);
    st->if_not_exists = if_not_exists != 0;
    creating_ = st;
    altering_ = nullptr;
    return st;
}

CreateTableStatement* AstBuilder::StartCreateStream(const Token& kw, int if_not_exists, const Token& name) {
    CreateTableStatement* st = StartCreateTable(kw, if_not_exists, name);
    st->stream = true;
    return st;
}

void AstBuilder::StreamPartition(const Token& column) { creating_->partition_column = Identifier(column); }
void AstBuilder::StreamExport(const Token& target) { creating_->export_target = Identifier(target); }
void AstBuilder::ExportOn(int op_bit) { creating_->export_ops |= static_cast<uint8_t>(op_bit); }

void AstBuilder::TableTtl(const Token& ttl_kw, const Token& n, const Token& unit, const Token& column) {
    if (Identifier(ttl_kw) != "ttl") Fail(ttl_kw, "expected TTL after USING");
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(n.text.view().data(), n.text.view().data() + n.text.size(), v);
    if (ec != std::errc() || v <= 0) Fail(n, "TTL wants a positive whole number");
    const std::string u = Identifier(unit);
    int64_t per = 0;
    if (u == "second" || u == "seconds") per = 1'000'000;
    if (u == "minute" || u == "minutes") per = 60'000'000;
    if (u == "hour" || u == "hours") per = 3'600'000'000;
    if (u == "day" || u == "days") per = 86'400'000'000;
    if (per == 0) Fail(unit, "TTL unit is SECONDS, MINUTES, HOURS or DAYS, not \"" + std::string(unit.text) + "\"");
    if (v > INT64_MAX / per) Fail(n, "TTL is too long");
    creating_->ttl = CreateTableStatement::Ttl{v * per, Identifier(column), 0, {}, ttl_kw.pos};
}

void AstBuilder::TtlBatchSize(const Token& kw, const Token& n) {
    if (Identifier(kw) != "batch_size") Fail(kw, "expected BATCH_SIZE after the TTL column");
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(n.text.view().data(), n.text.view().data() + n.text.size(), v);
    if (ec != std::errc() || v <= 0 || v > 1'000'000) Fail(n, "BATCH_SIZE wants a whole number from 1 to 1000000");
    if (creating_->ttl->batch_size != 0) Fail(kw, "BATCH_SIZE is given twice");
    creating_->ttl->batch_size = v;
}

void AstBuilder::TtlMigrate(const Token& kw, const Token& target) {
    if (Identifier(kw) != "migrate") Fail(kw, "expected MIGRATE TO TARGET after the TTL column");
    if (!creating_->ttl->migrate_target.empty()) Fail(kw, "MIGRATE TO TARGET is given twice");
    creating_->ttl->migrate_target = Identifier(target);
}

Statement* AstBuilder::DropStream(const Token& kw, int if_exists, const Token& name) {
    auto* st = static_cast<DropTableStatement*>(DropTable(kw, if_exists, name, false));
    st->is_stream = true;
    return st;
}

Statement* AstBuilder::FinishCreateTable(CreateTableStatement* s) {
    creating_ = nullptr;
    return s;
}

ColumnSpec& AstBuilder::CurrentColumn() {
    if (altering_) return altering_->column;
    return creating_->columns.back();
}

void AstBuilder::AddColumn(const Token& name, SqlType type) {
    ColumnSpec c;
    c.pos = name.pos;
    c.name = Identifier(name);
    c.type = type;
    creating_->columns.push_back(std::move(c));
}

void AstBuilder::ColumnNotNull(bool not_null) { CurrentColumn().not_null = not_null; }
void AstBuilder::ColumnDefault(Expr* e) { CurrentColumn().default_value = e; }
void AstBuilder::ColumnPrimaryKey() { CurrentColumn().primary_key = true; }
void AstBuilder::ColumnUnique(bool assume) {
    if (assume) {
        CurrentColumn().assume_unique = true;
    } else {
        CurrentColumn().unique = true;
    }
}
void AstBuilder::ConstraintName(const Token& name) { pending_constraint_name_ = Identifier(name); }

void AstBuilder::AddTableConstraint(int kind, std::vector<std::string>* cols) {
    TableConstraint c;
    c.kind = static_cast<TableConstraint::Kind>(kind);
    c.columns = std::move(*cols);
    c.name = std::move(pending_constraint_name_);
    pending_constraint_name_.clear();
    creating_->constraints.push_back(std::move(c));
}

Statement* AstBuilder::DropTable(const Token& kw, int if_exists, const Token& name, bool view) {
    auto* st = arena_->New<DropTableStatement>();
    st->pos = kw.pos;
    st->name = Identifier(name);
    st->if_exists = if_exists != 0;
    st->is_view = view;
    return st;
}

Statement* AstBuilder::AlterAddColumn(const Token& kw, const Token& table, const Token& col, SqlType type) {
    auto* st = arena_->New<AlterTableStatement>();
    st->pos = kw.pos;
    st->table = Identifier(table);
    st->add = true;
    st->column.pos = col.pos;
    st->column.name = Identifier(col);
    st->column.type = type;
    altering_ = st;
    creating_ = nullptr;
    return st;
}

Statement* AstBuilder::AlterDropColumn(const Token& kw, const Token& table, const Token& col) {
    auto* st = arena_->New<AlterTableStatement>();
    st->pos = kw.pos;
    st->table = Identifier(table);
    st->add = false;
    st->drop_column = Identifier(col);
    return st;
}

Statement* AstBuilder::CreateIndex(const Token& kw, int unique, int if_not_exists, const Token& name,
                                   const Token& table, std::vector<OrderItem>* keys, int hash) {
    auto* st = arena_->New<CreateIndexStatement>();
    st->pos = kw.pos;
    st->name = Identifier(name);
    st->table = Identifier(table);
    st->if_not_exists = if_not_exists != 0;
    st->unique = unique == 1;
    st->assume_unique = unique == 2;
    st->hash = hash != 0;
    for (const OrderItem& k : *keys) {
        if (k.nulls_first) Fail(kw, "NULLS FIRST/LAST is not allowed in an index key (NULLs sort first)");
        st->keys.push_back(k.expr);
        st->descending.push_back(k.descending);
    }
    return st;
}

Statement* AstBuilder::DropIndex(const Token& kw, int if_exists, const Token& name) {
    auto* st = arena_->New<DropIndexStatement>();
    st->pos = kw.pos;
    st->name = Identifier(name);
    st->if_exists = if_exists != 0;
    return st;
}

Statement* AstBuilder::PartitionTable(const Token& kw, const Token& table, const Token& column) {
    auto* st = arena_->New<PartitionTableStatement>();
    st->pos = kw.pos;
    st->table = Identifier(table);
    st->column = Identifier(column);
    return st;
}

Statement* AstBuilder::CreateView(const Token& kw, const Token& name, std::vector<std::string>* cols, SelectStmt* s,
                                  bool materialized) {
    auto* st = arena_->New<CreateViewStatement>();
    st->pos = kw.pos;
    st->name = Identifier(name);
    if (cols) st->column_names = std::move(*cols);
    st->select = s;
    st->materialized = materialized;
    return st;
}

ProcPartition AstBuilder::MakeProcPartition(const Token& table, const Token& column, const Token* param) {
    ProcPartition p{true, table, column, 0};
    if (param) {
        int v = 0;
        auto [ptr, ec] = std::from_chars(param->text.data(), param->text.data() + param->text.size(), v);
        if (ec != std::errc()) Fail(*param, "invalid PARAMETER number \"" + std::string(param->text) + "\"");
        p.parameter = v;
    }
    return p;
}

CreateProcedureStatement* AstBuilder::NewProcedure(const Token& kw, const Token& name, const ProcPartition& part) {
    auto* st = arena_->New<CreateProcedureStatement>();
    st->pos = kw.pos;
    st->name = Identifier(name);
    if (part.present) {
        st->partition_table = Identifier(part.table);
        st->partition_column = Identifier(part.column);
        st->partition_parameter = part.parameter;
    }
    return st;
}

Statement* AstBuilder::CreateProcedure(const Token& kw, const Token& name, const ProcPartition& part, const Token& as,
                                       Statement* body) {
    auto* st = NewProcedure(kw, name, part);
    st->body = body;
    st->body_offset = as.offset + as.text.size();
    return st;
}

Statement* AstBuilder::CreateNativeProcedure(const Token& kw, const Token& name, const ProcPartition& part,
                                             const Token& library, const Token* class_name) {
    auto* st = NewProcedure(kw, name, part);
    st->library = StringLiteral(library)->literal.AsString();
    if (st->library.empty()) Fail(library, "FROM LIBRARY needs a file name");
    if (class_name) {
        st->class_name = StringLiteral(*class_name)->literal.AsString();
        if (st->class_name.empty()) Fail(*class_name, "CLASS needs a class name");
    } else {
        // The class named like the procedure, as written (unquoted names are not folded here,
        // because C++ class names are case-sensitive).
        st->class_name = name.text.size() >= 2 && name.text.front() == '"'
                             ? std::string(name.text.substr(1, name.text.size() - 2))
                             : std::string(name.text);
    }
    return st;
}

Statement* AstBuilder::DropProcedure(const Token& kw, int if_exists, const Token& name) {
    auto* st = arena_->New<DropProcedureStatement>();
    st->pos = kw.pos;
    st->name = Identifier(name);
    st->if_exists = if_exists != 0;
    return st;
}

// ---------------------------------------------------------------- SELECT

SelectStmt* AstBuilder::Select(const Token& kw, int distinct, std::vector<SelectItem>* items,
                               std::vector<TableRef*>* from, Expr* where, std::vector<Expr*>* group_by, Expr* having) {
    auto* s = arena_->New<SelectStmt>();
    s->pos = kw.pos;
    s->distinct = distinct != 0;
    s->items = std::move(*items);
    if (from) s->from = std::move(*from);
    s->where = where;
    if (group_by) s->group_by = std::move(*group_by);
    s->having = having;
    return s;  // depth is known once ORDER BY and LIMIT are attached (FinishSelect)
}

SelectStmt* AstBuilder::Compound(SelectStmt* left, int op, SelectStmt* right) {
    SelectStmt* tail = left;
    while (tail->next) tail = tail->next;
    tail->set_op = static_cast<SetOp>(op);
    tail->next = right;
    left->depth = std::max(left->depth, right->depth) + 1;
    CheckDepth(left->depth, right->pos);
    return left;
}

SelectStmt* AstBuilder::FinishSelect(SelectStmt* s, std::vector<OrderItem>* order, LimitClause limit) {
    if (order) s->order_by = std::move(*order);
    s->limit = limit.limit;
    s->offset = limit.offset;
    int d = 0;
    auto expr = [&](const Expr* e) {
        if (e) d = std::max(d, e->depth);
    };
    for (const auto& item : s->items) expr(item.expr);
    for (const TableRef* t : s->from) d = std::max(d, t->depth);
    expr(s->where);
    for (const Expr* e : s->group_by) expr(e);
    expr(s->having);
    for (const auto& o : s->order_by) expr(o.expr);
    expr(s->limit);
    expr(s->offset);
    // The SELECT itself is not a level: `SELECT <expr of depth 1000>` is within the limit; a
    // subquery is a level through the expression or FROM entry that holds it.
    s->depth = std::max({s->depth, d, 1});
    CheckDepth(s->depth, s->pos);
    return s;
}

std::vector<CommonTable>* AstBuilder::AddCommonTable(std::vector<CommonTable>* list, const Token& name,
                                                     std::vector<std::string>* columns, SelectStmt* s) {
    if (!list) list = arena_->New<std::vector<CommonTable>>();
    CommonTable ct;
    ct.pos = name.pos;
    ct.name = Identifier(name);
    for (const CommonTable& other : *list) {
        if (other.name == ct.name) Fail(name, "WITH query name \"" + ct.name + "\" specified more than once");
    }
    if (columns) ct.columns = std::move(*columns);
    ct.select = s;
    list->push_back(std::move(ct));
    return list;
}

SelectStmt* AstBuilder::WithSelect(std::vector<CommonTable>* with, SelectStmt* s) {
    int d = s->depth;
    for (const CommonTable& ct : *with) d = std::max(d, ct.select->depth + 1);
    s->depth = d;
    CheckDepth(s->depth, s->pos);
    s->with = std::move(*with);
    return s;
}

std::vector<SelectItem>* AstBuilder::NewSelectList() { return arena_->New<std::vector<SelectItem>>(); }

std::vector<SelectItem>* AstBuilder::AddSelectItem(std::vector<SelectItem>* list, Expr* e, const Token& alias) {
    list->push_back(SelectItem{e, Identifier(alias)});
    return list;
}

std::vector<SelectItem>* AstBuilder::AddSelectStar(std::vector<SelectItem>* list, const Token* table,
                                                   const Token& star) {
    Expr* e = NewExpr(ExprKind::kStar, star.pos);
    if (table) e->table = Identifier(*table);
    list->push_back(SelectItem{e, {}});
    return list;
}

std::vector<TableRef*>* AstBuilder::AppendFrom(std::vector<TableRef*>* list, TableRef* t) {
    if (!list) list = arena_->New<std::vector<TableRef*>>();
    list->push_back(t);
    return list;
}

TableRef* AstBuilder::TableName(const Token& name, const Token& alias) {
    auto* t = arena_->New<TableRef>();
    t->kind = TableRef::Kind::kTable;
    t->pos = name.pos;
    t->name = Identifier(name);
    t->alias = Identifier(alias);
    return t;
}

TableRef* AstBuilder::DerivedTable(const Token& lp, SelectStmt* s, const Token& alias) {
    auto* t = arena_->New<TableRef>();
    t->kind = TableRef::Kind::kSubquery;
    t->pos = lp.pos;
    t->subquery = s;
    t->alias = Identifier(alias);
    t->depth = s->depth + 1;
    CheckDepth(t->depth, t->pos);
    return t;
}

TableRef* AstBuilder::Join(TableRef* left, int type, TableRef* right, Expr* on, std::vector<std::string>* using_cols) {
    auto* t = arena_->New<TableRef>();
    t->kind = TableRef::Kind::kJoin;
    t->pos = left->pos;
    t->join_type = static_cast<JoinType>(type);
    t->left = left;
    t->right = right;
    t->on = on;
    if (using_cols) t->using_columns = std::move(*using_cols);
    t->depth = std::max({left->depth, right->depth, on ? on->depth : 0}) + 1;
    CheckDepth(t->depth, t->pos);
    return t;
}

std::vector<OrderItem>* AstBuilder::AddOrder(std::vector<OrderItem>* list, Expr* e, int desc, int nulls) {
    if (!list) list = arena_->New<std::vector<OrderItem>>();
    OrderItem item;
    item.expr = e;
    item.descending = desc != 0;
    if (nulls == 1) item.nulls_first = true;
    if (nulls == 2) item.nulls_first = false;
    list->push_back(item);
    return list;
}

// ---------------------------------------------------------------- expressions

Expr* AstBuilder::ColumnRef(const Token* table, const Token& column) {
    Expr* e = NewExpr(ExprKind::kColumnRef, table ? table->pos : column.pos);
    if (table) e->table = Identifier(*table);
    e->name = Identifier(column);
    return e;
}

Expr* AstBuilder::Param(const Token& tok) {
    Expr* e = NewExpr(ExprKind::kParam, tok.pos);
    e->param_index = next_param_++;
    return e;
}

Expr* AstBuilder::NullLiteral(const Token& tok) { return NewExpr(ExprKind::kLiteral, tok.pos); }

Expr* AstBuilder::IntegerLiteral(const Token& tok) {
    Expr* e = NewExpr(ExprKind::kLiteral, tok.pos);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(tok.text.data(), tok.text.data() + tok.text.size(), v);
    if (ec == std::errc() && ptr == tok.text.data() + tok.text.size()) {
        e->literal = (v >= INT32_MIN && v <= INT32_MAX) ? Value::Integer(static_cast<int32_t>(v)) : Value::BigInt(v);
        return e;
    }
    // Too large for BIGINT: an exact DECIMAL if it fits 26 integer digits, else FLOAT.
    if (tok.text.size() <= Decimal::kPrecision - Decimal::kScale) {
        e->literal = Value::Dec(Decimal::Parse(tok.text));
    } else {
        e->literal = Value::Float(std::strtod(std::string(tok.text).c_str(), nullptr));
    }
    return e;
}

Expr* AstBuilder::FloatLiteral(const Token& tok) {
    Expr* e = NewExpr(ExprKind::kLiteral, tok.pos);
    std::string_view t = tok.text;
    bool exponent = t.find_first_of("eE") != std::string_view::npos;
    size_t dot = t.find('.');
    size_t frac_digits = dot == std::string_view::npos ? 0 : t.size() - dot - 1;
    size_t int_digits = dot == std::string_view::npos ? t.size() : dot;
    // Exact numeric literals are DECIMAL (SQL standard) when DECIMAL(38,12) holds them exactly.
    if (!exponent && frac_digits <= static_cast<size_t>(Decimal::kScale) &&
        int_digits <= static_cast<size_t>(Decimal::kPrecision - Decimal::kScale)) {
        e->literal = Value::Dec(Decimal::Parse(t));
    } else {
        e->literal = Value::Float(std::strtod(std::string(t).c_str(), nullptr));
    }
    return e;
}

Expr* AstBuilder::StringLiteral(const Token& tok) {
    Expr* e = NewExpr(ExprKind::kLiteral, tok.pos);
    std::string out;
    std::string_view t = tok.text.substr(1, tok.text.size() - 2);
    out.reserve(t.size());
    for (size_t i = 0; i < t.size(); ++i) {
        out += t[i];
        if (t[i] == '\'' && i + 1 < t.size() && t[i + 1] == '\'') ++i;
    }
    e->literal = Value::Varchar(out);
    return e;
}

Expr* AstBuilder::BlobLiteral(const Token& tok) {
    Expr* e = NewExpr(ExprKind::kLiteral, tok.pos);
    std::string_view hex = tok.text.substr(2, tok.text.size() - 3);
    std::string out;
    out.reserve(hex.size() / 2);
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        return (std::tolower(static_cast<unsigned char>(c)) - 'a') + 10;
    };
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1]));
    }
    e->literal = Value::Varbinary(out);
    return e;
}

Expr* AstBuilder::BoolLiteral(const Token& tok, bool value) {
    Expr* e = NewExpr(ExprKind::kLiteral, tok.pos);
    e->literal = Value::Bool(value);
    return e;
}

Expr* AstBuilder::Function(const Token& name, int distinct, std::vector<Expr*>* args) {
    Expr* e = NewExpr(ExprKind::kFunction, name.pos);
    e->name = Lower(name.text);
    e->distinct = distinct != 0;
    e->args = std::move(*args);
    return Nested(e);
}

WindowSpec* AstBuilder::Window(std::vector<Expr*>* partition_by, std::vector<OrderItem>* order_by) {
    auto* w = arena_->New<WindowSpec>();
    if (partition_by) w->partition_by = std::move(*partition_by);
    if (order_by) w->order_by = std::move(*order_by);
    return w;
}

Expr* AstBuilder::WindowFunction(Expr* call, WindowSpec* over) {
    call->over = over;
    int d = call->depth;
    for (const Expr* p : over->partition_by) d = std::max(d, p->depth + 1);
    for (const OrderItem& o : over->order_by) d = std::max(d, o.expr->depth + 1);
    call->depth = d;
    CheckDepth(call->depth, call->pos);
    return call;
}

Expr* AstBuilder::StringLiteralText(const Token& at, std::string_view text) {
    Expr* e = NewExpr(ExprKind::kLiteral, at.pos);
    e->literal = Value::Varchar(text);
    return e;
}

Expr* AstBuilder::SpecialFunction(const Token& name, int distinct, int form, Expr* x, Expr* y, Expr* z) {
    const std::string fn = Lower(name.text);
    if (distinct) Fail(name, "DISTINCT is only valid in aggregates");
    auto* args = arena_->New<std::vector<Expr*>>();
    if (form >= 0) {  // TRIM([side] [chars] FROM s)
        if (fn != "trim") Fail(name, "LEADING/TRAILING/BOTH are only valid in TRIM");
        static const char* kSide[] = {"BOTH", "LEADING", "TRAILING"};
        *args = {StringLiteralText(name, kSide[form]), x ? x : StringLiteralText(name, " "), y};
    } else if (form == -2) {
        if (fn != "position") Fail(name, "x IN y is only valid in POSITION (use x IN (y) for a list)");
        *args = {x, y};
    } else if (fn == "trim") {
        if (z) Fail(name, "TRIM takes no FOR");
        *args = {StringLiteralText(name, "BOTH"), x, y};
    } else if (fn == "extract" || fn == "substring" || fn == "substr") {
        if (z && fn == "extract") Fail(name, "EXTRACT takes no FOR");
        *args = {x, y};
        if (z) args->push_back(z);
    } else {
        Fail(name, "FROM inside the parentheses is only valid in EXTRACT, SUBSTRING and TRIM");
    }
    Token t = name;
    return Function(t, 0, args);
}

Expr* AstBuilder::FunctionStar(const Token& name) {
    Expr* e = NewExpr(ExprKind::kFunction, name.pos);
    e->name = Lower(name.text);
    e->args.push_back(NewExpr(ExprKind::kStar, name.pos));
    return Nested(e);
}

Expr* AstBuilder::Cast(const Token& kw, Expr* x, SqlType type) {
    Expr* e = NewExpr(ExprKind::kCast, kw.pos);
    e->args.push_back(x);
    e->cast_type = type;
    return Nested(e);
}

Expr* AstBuilder::Binary(BinaryOp op, Expr* l, Expr* r) {
    Expr* e = NewExpr(ExprKind::kBinary, l->pos);
    e->binary_op = op;
    e->args = {l, r};
    return Nested(e);
}

Expr* AstBuilder::Unary(const Token& op_tok, UnaryOp op, Expr* x) {
    // Fold a minus sign into a numeric literal so -9223372036854775808 is a BIGINT.
    if (op == UnaryOp::kNeg && x->kind == ExprKind::kLiteral && !x->literal.is_null()) {
        const Value& v = x->literal;
        if (v.type() == TypeId::kDecimal) {
            Decimal d = -v.AsDecimal();
            if (d == Decimal::FromInt(INT64_MIN)) {
                x->literal = Value::BigInt(INT64_MIN);
            } else {
                x->literal = Value::Dec(d);
            }
            x->pos = op_tok.pos;
            return x;
        }
        if (IsIntegral(v.type()) && v.AsInt() != INT64_MIN) {
            int64_t n = -v.AsInt();
            x->literal =
                (n >= INT32_MIN && n <= INT32_MAX) ? Value::Integer(static_cast<int32_t>(n)) : Value::BigInt(n);
            x->pos = op_tok.pos;
            return x;
        }
        if (v.type() == TypeId::kFloat) {
            x->literal = Value::Float(-v.AsDouble());
            x->pos = op_tok.pos;
            return x;
        }
    }
    if (op == UnaryOp::kPlus) return x;
    Expr* e = NewExpr(ExprKind::kUnary, op_tok.pos);
    e->unary_op = op;
    e->args.push_back(x);
    return Nested(e);
}

Expr* AstBuilder::Like(Expr* x, int negated, Expr* pattern, Expr* escape) {
    Expr* e = NewExpr(ExprKind::kLike, x->pos);
    e->negated = negated != 0;
    e->args = {x, pattern};
    if (escape) e->args.push_back(escape);
    return Nested(e);
}

Expr* AstBuilder::IsNull(Expr* x, bool negated) {
    Expr* e = NewExpr(ExprKind::kIsNull, x->pos);
    e->negated = negated;
    e->args.push_back(x);
    return Nested(e);
}

Expr* AstBuilder::IsDistinctFrom(Expr* l, Expr* r, bool not_distinct) {
    Expr* e = NewExpr(ExprKind::kIsDistinctFrom, l->pos);
    e->negated = not_distinct;
    e->args = {l, r};
    return Nested(e);
}

Expr* AstBuilder::Between(Expr* x, int negated, Expr* lo, Expr* hi) {
    Expr* e = NewExpr(ExprKind::kBetween, x->pos);
    e->negated = negated != 0;
    e->args = {x, lo, hi};
    return Nested(e);
}

Expr* AstBuilder::InList(Expr* x, int negated, std::vector<Expr*>* items) {
    if (items->size() > kMaxInListItems) {
        ThrowSqlError(ErrorCode::kLimitExceeded, "IN list of " + std::to_string(items->size()) +
                                                     " items is longer than the limit of " +
                                                     std::to_string(kMaxInListItems) + " at " + PosText(x->pos));
    }
    Expr* e = NewExpr(ExprKind::kInList, x->pos);
    e->negated = negated != 0;
    e->args.push_back(x);
    e->args.insert(e->args.end(), items->begin(), items->end());
    return Nested(e);
}

Expr* AstBuilder::InSelect(Expr* x, int negated, SelectStmt* s) {
    Expr* e = NewExpr(ExprKind::kInSubquery, x->pos);
    e->negated = negated != 0;
    e->args.push_back(x);
    e->subquery = s;
    return Nested(e);
}

Expr* AstBuilder::ScalarSubquery(const Token& lp, SelectStmt* s) {
    Expr* e = NewExpr(ExprKind::kSubquery, lp.pos);
    e->subquery = s;
    return Nested(e);
}

Expr* AstBuilder::Exists(const Token& kw, SelectStmt* s) {
    Expr* e = NewExpr(ExprKind::kExists, kw.pos);
    e->subquery = s;
    return Nested(e);
}

Expr* AstBuilder::Case(const Token& kw, Expr* operand, std::vector<Expr*>* whens, Expr* else_expr) {
    Expr* e = NewExpr(ExprKind::kCase, kw.pos);
    if (operand) {
        e->case_has_operand = true;
        e->args.push_back(operand);
    }
    e->args.insert(e->args.end(), whens->begin(), whens->end());
    if (else_expr) {
        e->case_has_else = true;
        e->args.push_back(else_expr);
    }
    return Nested(e);
}

std::vector<Expr*>* AstBuilder::AppendWhen(std::vector<Expr*>* list, Expr* when, Expr* then) {
    if (!list) list = arena_->New<std::vector<Expr*>>();
    list->push_back(when);
    list->push_back(then);
    return list;
}

std::vector<Expr*>* AstBuilder::NewExprList() { return arena_->New<std::vector<Expr*>>(); }

std::vector<Expr*>* AstBuilder::AppendExpr(std::vector<Expr*>* list, Expr* e) {
    if (!list) list = arena_->New<std::vector<Expr*>>();
    list->push_back(e);
    return list;
}

std::vector<std::string>* AstBuilder::AppendId(std::vector<std::string>* list, const Token& id) {
    if (!list) list = arena_->New<std::vector<std::string>>();
    list->push_back(Identifier(id));
    return list;
}

std::vector<std::vector<Expr*>>* AstBuilder::AppendRow(std::vector<std::vector<Expr*>>* list, std::vector<Expr*>* row) {
    if (!list) list = arena_->New<std::vector<std::vector<Expr*>>>();
    list->push_back(std::move(*row));
    return list;
}

std::vector<std::pair<std::string, Expr*>>* AstBuilder::AppendSet(std::vector<std::pair<std::string, Expr*>>* list,
                                                                  const Token& col, Expr* e) {
    if (!list) list = arena_->New<std::vector<std::pair<std::string, Expr*>>>();
    list->emplace_back(Identifier(col), e);
    return list;
}

SqlType* AstBuilder::Type(const Token& name, const Token* p1, const Token* p2) {
    return arena_->New<SqlType>(ResolveType(name, p1, p2));
}

SqlType AstBuilder::ResolveType(const Token& name, const Token* p1, const Token* p2) {
    std::string n = Upper(name.text);
    auto number = [&](const Token* t) -> int64_t {
        int64_t v = 0;
        auto [ptr, ec] = std::from_chars(t->text.data(), t->text.data() + t->text.size(), v);
        if (ec != std::errc()) Fail(*t, "invalid type length \"" + std::string(t->text) + "\"");
        return v;
    };
    auto no_params = [&](TypeId id) {
        if (p1) Fail(name, "type " + n + " takes no length");
        return SqlType::Of(id);
    };
    if (n == "TINYINT") return no_params(TypeId::kTinyInt);
    if (n == "SMALLINT") return no_params(TypeId::kSmallInt);
    if (n == "INTEGER" || n == "INT") return no_params(TypeId::kInteger);
    if (n == "BIGINT") return no_params(TypeId::kBigInt);
    if (n == "FLOAT" || n == "DOUBLE" || n == "REAL") return no_params(TypeId::kFloat);
    if (n == "TIMESTAMP") return no_params(TypeId::kTimestamp);
    if (n == "DECIMAL" || n == "NUMERIC" || n == "DEC") {
        if (p1 && (number(p1) != Decimal::kPrecision || !p2 || number(p2) != Decimal::kScale)) {
            failed_ = true;
            ThrowSqlError(ErrorCode::kFeatureNotSupported,
                          "DECIMAL is fixed at precision 38, scale 12: declare DECIMAL or DECIMAL(38,12) (at " +
                              PosText(name.pos) + ")");
        }
        return SqlType::Of(TypeId::kDecimal);
    }
    if (n == "VARCHAR" || n == "TEXT" || n == "CHAR" || n == "VARBINARY" || n == "BLOB") {
        TypeId id = (n == "VARBINARY" || n == "BLOB") ? TypeId::kVarbinary : TypeId::kVarchar;
        if (p2) Fail(name, "type " + n + " takes one length");
        uint32_t len = kDefaultVarLength;
        if (p1) {
            int64_t l = number(p1);
            if (l < 1 || l > kMaxVarLength) {
                failed_ = true;
                ThrowSqlError(ErrorCode::kInvalidDefinition, "length of " + n + " must be between 1 and " +
                                                                 std::to_string(kMaxVarLength) + ", got " +
                                                                 std::to_string(l) + " at " + PosText(p1->pos));
            }
            len = static_cast<uint32_t>(l);
        }
        return SqlType{id, len};
    }
    if (n == "BOOLEAN" || n == "BOOL") {
        failed_ = true;
        ThrowSqlError(ErrorCode::kFeatureNotSupported,
                      "BOOLEAN columns are not supported; use TINYINT (at " + PosText(name.pos) + ")");
    }
    failed_ = true;
    ThrowSqlError(ErrorCode::kSyntaxError, "unknown type \"" + std::string(name.text) + "\" at " + PosText(name.pos));
}

}  // namespace surge::sql

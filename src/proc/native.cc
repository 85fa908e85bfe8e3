// Native procedures: loading libraries, the host side of the procedure ABI, and per-executor sets
// (see native.h and include/surge/procedure.h).
#include "proc/native.h"

#include <dlfcn.h>

#include <deque>
#include <mutex>
#include <optional>

#include "sql/parser.h"
#include "surge/procedure.h"
#include "types/value_ops.h"

// The ABI's opaque handles, defined here (global namespace, as the C header declares them).
struct surge_definition {
    surge::proc::NativeProcedure* proc = nullptr;
    surge::proc::NativeTarget target;
    std::string error;
};

struct surge_call {
    surge::proc::NativeProcedure* proc = nullptr;
    surge::proc::NativeTarget target;
    int64_t timestamp = 0;
    uint64_t random_state = 0;
    /// Queued statements: (statement number, first parameter in queued_params).
    std::vector<std::pair<int32_t, size_t>> queued;
    std::vector<surge::Value> queued_params;
    /// Results of every batch, flat: batch b is results[batch_start[b] .. batch_start[b + 1]).
    std::vector<surge::exec::ResultSet> results;
    size_t results_used = 0;
    std::vector<size_t> batch_start;
    std::deque<std::string> texts;  ///< DECIMAL cells as text, valid until the call ends
    /// What the procedure returns: answer[0 .. answer_used), reused from call to call.
    std::vector<surge::exec::ResultSet> answer;
    size_t answer_used = 0;
    surge::Status failure;         ///< the statement that failed last
    std::string error;             ///< call_error's text
    std::string message;           ///< set_message's text
    std::vector<surge_value> raw;  ///< the call's parameters as Run gets them
};

namespace surge::proc {

// ------------------------------------------------------------------ libraries

class NativeLibrary {
  public:
    ~NativeLibrary() {
        if (handle_) dlclose(handle_);
    }

    static Result<std::shared_ptr<NativeLibrary>> Open(const std::string& path) {
        static std::mutex mu;
        static std::map<std::string, std::weak_ptr<NativeLibrary>> open;
        // A name without a slash would make dlopen search the system's library path; a procedure
        // library is a file, relative to the server's working directory unless absolute.
        const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
        std::lock_guard<std::mutex> lock(mu);
        if (auto lib = open[file].lock()) return lib;
        auto lib = std::shared_ptr<NativeLibrary>(new NativeLibrary());
        lib->handle_ = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!lib->handle_) {
            const char* why = dlerror();
            return Status(ErrorCode::kInvalidDefinition,
                          "library '" + path + "' does not load: " + (why ? why : "unknown reason"));
        }
        auto entry = reinterpret_cast<surge_procedures_v1_fn>(dlsym(lib->handle_, "surge_procedures_v1"));
        if (!entry) {
            return Status(ErrorCode::kInvalidDefinition,
                          "library '" + path +
                              "' is not a SurgeDB procedure library: it does not export surge_procedures_v1 (see "
                              "SURGE_EXPORT_PROCEDURES in surge/procedure.h)");
        }
        lib->table_ = entry();
        if (!lib->table_ || lib->table_->abi_version != SURGE_PROCEDURE_ABI) {
            return Status(ErrorCode::kInvalidDefinition,
                          "library '" + path + "' was built for procedure ABI " +
                              (lib->table_ ? std::to_string(lib->table_->abi_version) : std::string("?")) +
                              "; this server runs ABI " + std::to_string(SURGE_PROCEDURE_ABI) + ": rebuild it");
        }
        open[file] = lib;
        return lib;
    }

    const surge_procedure_v1* Find(std::string_view class_name) const {
        for (size_t i = 0; i < table_->count; ++i) {
            const auto& p = table_->procedures[i];
            if (p.class_name && class_name == p.class_name) return &p;
        }
        return nullptr;
    }

    std::string ClassList() const {
        std::string out;
        for (size_t i = 0; i < table_->count; ++i) {
            if (!out.empty()) out += ", ";
            out += table_->procedures[i].class_name ? table_->procedures[i].class_name : "(unnamed)";
        }
        return out.empty() ? "none" : out;
    }

  private:
    NativeLibrary() = default;
    void* handle_ = nullptr;
    const surge_library_v1* table_ = nullptr;
};

struct NativeCallAccess {
    static int32_t AddStatement(NativeProcedure& p, std::string sql, std::shared_ptr<exec::PreparedStatement> prep) {
        p.statements_.push_back(std::move(sql));
        p.prepared_.push_back(std::move(prep));
        return static_cast<int32_t>(p.statements_.size() - 1);
    }
    static void SetParameters(NativeProcedure& p, std::vector<SqlType> types) {
        p.params_declared_ = true;
        p.param_types_ = std::move(types);
    }
    static exec::PreparedStatement* Prepared(NativeProcedure& p, int32_t stmt) { return p.prepared_[stmt].get(); }
};

namespace {

// ------------------------------------------------------------------ values across the ABI

// The SQL type of an ABI type code, or nothing for a code this server does not know.
std::optional<TypeId> TypeFromAbi(int32_t t) {
    switch (t) {
        case SURGE_TYPE_NULL:
            return TypeId::kNull;
        case SURGE_TYPE_TINYINT:
            return TypeId::kTinyInt;
        case SURGE_TYPE_SMALLINT:
            return TypeId::kSmallInt;
        case SURGE_TYPE_INTEGER:
            return TypeId::kInteger;
        case SURGE_TYPE_BIGINT:
            return TypeId::kBigInt;
        case SURGE_TYPE_FLOAT:
            return TypeId::kFloat;
        case SURGE_TYPE_DECIMAL:
            return TypeId::kDecimal;
        case SURGE_TYPE_VARCHAR:
            return TypeId::kVarchar;
        case SURGE_TYPE_VARBINARY:
            return TypeId::kVarbinary;
        case SURGE_TYPE_TIMESTAMP:
            return TypeId::kTimestamp;
        case SURGE_TYPE_BOOLEAN:
            return TypeId::kBoolean;
        default:
            return std::nullopt;
    }
}

int32_t TypeToAbi(TypeId t) {
    switch (t) {
        case TypeId::kNull:
            return SURGE_TYPE_NULL;
        case TypeId::kBoolean:
            return SURGE_TYPE_BOOLEAN;
        case TypeId::kTinyInt:
            return SURGE_TYPE_TINYINT;
        case TypeId::kSmallInt:
            return SURGE_TYPE_SMALLINT;
        case TypeId::kInteger:
            return SURGE_TYPE_INTEGER;
        case TypeId::kBigInt:
            return SURGE_TYPE_BIGINT;
        case TypeId::kFloat:
            return SURGE_TYPE_FLOAT;
        case TypeId::kDecimal:
            return SURGE_TYPE_DECIMAL;
        case TypeId::kVarchar:
            return SURGE_TYPE_VARCHAR;
        case TypeId::kVarbinary:
            return SURGE_TYPE_VARBINARY;
        case TypeId::kTimestamp:
            return SURGE_TYPE_TIMESTAMP;
    }
    return SURGE_TYPE_NULL;
}

// Reads a value the library passed (throws SqlError for a bad type or decimal text).
void FromAbi(const surge_value& in, Value* out) {
    const auto type = TypeFromAbi(in.type);
    if (!type) throw SqlError(Status(ErrorCode::kInvalidParameter, "unknown value type " + std::to_string(in.type)));
    if (in.is_null || *type == TypeId::kNull) {
        out->SetNull(*type);
        return;
    }
    const std::string_view text(in.str ? in.str : "", in.str ? in.len : 0);
    switch (*type) {
        case TypeId::kFloat:
            out->SetDouble(in.d);
            break;
        case TypeId::kDecimal:
            *out = Value::Dec(Decimal::Parse(text));
            break;
        case TypeId::kVarchar:
        case TypeId::kVarbinary:
            out->SetString(*type, text);
            break;
        case TypeId::kBoolean:
            out->SetInt(*type, in.i != 0);
            break;
        default: {
            // Integers are checked against their type's range when they convert for a column
            // or parameter; here they are BIGINT-wide.
            out->SetInt(IsIntegral(*type) ? TypeId::kBigInt : *type, in.i);
            if (IsIntegral(*type) && (in.i < IntegralMin(*type) || in.i > IntegralMax(*type))) {
                throw SqlError(Status(ErrorCode::kNumericOutOfRange,
                                      std::to_string(in.i) + " is out of range for " + TypeName(SqlType::Of(*type))));
            }
        }
    }
}

// A value as the library sees it; DECIMAL text is kept in `texts` until the call ends.
surge_value ToAbi(const Value& v, std::deque<std::string>* texts) {
    surge_value out{TypeToAbi(v.type()), v.is_null() ? 1 : 0, 0, 0, nullptr, 0};
    if (v.is_null()) return out;
    switch (v.type()) {
        case TypeId::kFloat:
            out.d = v.AsDouble();
            break;
        case TypeId::kDecimal:
            texts->push_back(v.AsDecimal().ToString());
            out.str = texts->back().data();
            out.len = texts->back().size();
            break;
        case TypeId::kVarchar:
        case TypeId::kVarbinary:
            out.str = v.AsString().data();
            out.len = v.AsString().size();
            break;
        default:
            out.i = v.AsInt();
    }
    return out;
}

// Plans a statement where it will run: prepared on a partition's engine (kept in *prepared), or
// checked by the spanning executor (multi-partition statements run from their text).
Status PlanOn(NativeTarget target, const std::string& sql, std::shared_ptr<exec::PreparedStatement>* prepared) {
    if (!target.engine) return target.span->Explain(sql).status();
    auto r = target.engine->Prepare(sql);
    if (!r.ok()) return r.status();
    if (prepared) *prepared = std::move(*r);
    return Status::Ok();
}

const char* Borrow(const std::string& s, size_t* len) {
    if (len) *len = s.size();
    return s.c_str();
}

// ------------------------------------------------------------------ the host API

int32_t HostDeclare(surge_definition* def, const char* sql_text, size_t len) {
    NativeProcedure& p = *def->proc;
    const std::string sql(sql_text ? sql_text : "", sql_text ? len : 0);
    const std::string which = "statement " + std::to_string(p.statements().size()) + " (" + sql + ")";
    try {
        sql::ParseResult parsed = sql::Parse(sql);
        if (parsed.statements.size() != 1) {
            def->error = which + ": declare one statement at a time, not " + std::to_string(parsed.statements.size());
            return -1;
        }
        if (!sql::IsProcedureStatement(parsed.statements[0]->kind)) {
            def->error = which + ": a procedure runs SELECT, INSERT, UPSERT, UPDATE or DELETE";
            return -1;
        }
    } catch (const SqlError& e) {
        def->error = which + ": " + e.status().message();
        return -1;
    }
    std::shared_ptr<exec::PreparedStatement> prepared;
    Status planned = PlanOn(def->target, sql, &prepared);
    if (!planned.ok()) {
        def->error = which + " does not plan: " + planned.message();
        return -1;
    }
    return NativeCallAccess::AddStatement(p, sql, std::move(prepared));
}

int32_t HostParameters(surge_definition* def, const int32_t* types, size_t count) {
    std::vector<SqlType> list;
    for (size_t i = 0; i < count; ++i) {
        auto t = TypeFromAbi(types[i]);
        if (!t || *t == TypeId::kNull) {
            def->error = "parameter " + std::to_string(i + 1) + " has no type (" + std::to_string(types[i]) + ")";
            return -1;
        }
        list.push_back(IsString(*t) ? SqlType{*t, kMaxVarLength} : SqlType::Of(*t));
    }
    NativeCallAccess::SetParameters(*def->proc, std::move(list));
    return 0;
}

const char* HostDefinitionError(surge_definition* def, size_t* len) { return Borrow(def->error, len); }

void HostSetDefinitionError(surge_definition* def, const char* m, size_t len) {
    def->error.assign(m ? m : "", m ? len : 0);
}

int32_t HostQueue(surge_call* call, int32_t stmt, const surge_value* params, size_t count) {
    const auto& statements = call->proc->statements();
    if (stmt < 0 || static_cast<size_t>(stmt) >= statements.size()) {
        call->error = "Queue: statement " + std::to_string(stmt) + " was not declared (" + call->proc->name() +
                      " declares " + std::to_string(statements.size()) + ")";
        return -1;
    }
    const size_t first = call->queued_params.size();
    call->queued_params.resize(first + count);
    try {
        for (size_t i = 0; i < count; ++i) FromAbi(params[i], &call->queued_params[first + i]);
    } catch (const SqlError& e) {
        call->queued_params.resize(first);
        call->error = "Queue: parameter of statement " + std::to_string(stmt) + ": " + e.status().message();
        return -1;
    }
    call->queued.emplace_back(stmt, first);
    return 0;
}

// The next of a reused list of result sets, as the last call left it.
exec::ResultSet& NextSlot(std::vector<exec::ResultSet>& list, size_t* used) {
    if (*used == list.size()) list.emplace_back();
    return list[(*used)++];
}

// The same, emptied (its vectors keep their capacity).
exec::ResultSet& NextOf(std::vector<exec::ResultSet>& list, size_t* used) {
    exec::ResultSet& rs = NextSlot(list, used);
    rs.Clear();
    return rs;
}

exec::ResultSet& NextResult(surge_call* call) { return NextOf(call->results, &call->results_used); }

// A reused result set that grew large gives its memory back rather than keep it for every later
// call of the procedure.
void Trim(std::vector<exec::ResultSet>& list, size_t used) {
    constexpr size_t kKeepValues = 4096;
    for (size_t i = 0; i < used && i < list.size(); ++i) {
        if (list[i].values.capacity() > kKeepValues) list[i] = exec::ResultSet{};
    }
}

int32_t HostExecute(surge_call* call, int64_t* batch) {
    call->batch_start.push_back(call->results_used);
    const int64_t id = static_cast<int64_t>(call->batch_start.size()) - 1;
    NativeProcedure& p = *call->proc;
    int32_t rc = 0;
    for (size_t q = 0; q < call->queued.size(); ++q) {
        const auto [stmt, first] = call->queued[q];
        const size_t end = q + 1 < call->queued.size() ? call->queued[q + 1].second : call->queued_params.size();
        std::span<const Value> params(call->queued_params.data() + first, end - first);
        exec::ResultSet& rs = NextResult(call);
        Status s = call->target.engine ? call->target.engine->Execute(*NativeCallAccess::Prepared(p, stmt), params, &rs)
                                       : call->target.span->Execute(p.statements()[stmt], &rs, params);
        if (!s.ok()) {
            call->failure = s;
            call->error = "statement " + std::to_string(stmt) + " of " + p.name() + ": " + s.message();
            rc = -1;
            break;
        }
    }
    call->queued.clear();
    call->queued_params.clear();
    if (rc == 0) *batch = id;
    return rc;
}

size_t HostResultCount(surge_call* call, int64_t batch) {
    if (batch < 0 || static_cast<size_t>(batch) >= call->batch_start.size()) return 0;
    const size_t end =
        static_cast<size_t>(batch) + 1 < call->batch_start.size() ? call->batch_start[batch + 1] : call->results_used;
    return end - call->batch_start[batch];
}

// The result `index` of `batch`, or nullptr.
const exec::ResultSet* BatchResult(surge_call* call, int64_t batch, size_t index) {
    return index < HostResultCount(call, batch) ? &call->results[call->batch_start[batch] + index] : nullptr;
}

size_t HostRowCount(surge_call* call, int64_t batch, size_t result) {
    const auto* rs = BatchResult(call, batch, result);
    return rs ? rs->row_count() : 0;
}

size_t HostColumnCount(surge_call* call, int64_t batch, size_t result) {
    const auto* rs = BatchResult(call, batch, result);
    return rs ? rs->column_count() : 0;
}

int32_t HostColumn(surge_call* call, int64_t batch, size_t result, size_t col, const char** name, size_t* name_len,
                   int32_t* type) {
    const auto* rs = BatchResult(call, batch, result);
    if (!rs || col >= rs->column_count()) return -1;
    if (name) *name = Borrow(rs->columns[col].name, name_len);
    if (type) *type = TypeToAbi(rs->columns[col].type.id);
    return 0;
}

int32_t HostCell(surge_call* call, int64_t batch, size_t result, size_t row, size_t col, surge_value* out) {
    const auto* rs = BatchResult(call, batch, result);
    if (!rs || row >= rs->row_count() || col >= rs->column_count()) return -1;
    *out = ToAbi(rs->at(row, col), &call->texts);
    return 0;
}

int32_t HostReturnResult(surge_call* call, int64_t batch, size_t result) {
    const auto* rs = BatchResult(call, batch, result);
    if (!rs) {
        call->error = "Return: batch " + std::to_string(batch) + " has no result " + std::to_string(result);
        return -1;
    }
    exec::ResultSet& out = NextOf(call->answer, &call->answer_used);
    out.columns = rs->columns;
    out.values = rs->values;
    return 0;
}

int32_t HostReturnValue(surge_call* call, const char* column, size_t len, const surge_value* value) {
    Value v;
    try {
        FromAbi(*value, &v);
    } catch (const SqlError& e) {
        call->error = "Return: " + e.status().message();
        return -1;
    }
    SqlType type = SqlType::Of(v.type());
    if (IsString(v.type())) type.length = kMaxVarLength;
    // A procedure returns the same column call after call: kept as it is, not rewritten.
    exec::ResultSet& rs = NextSlot(call->answer, &call->answer_used);
    const std::string_view name(column ? column : "", column ? len : 0);
    if (rs.columns.size() != 1 || rs.columns[0].name != name || rs.columns[0].type != type) {
        rs.columns.resize(1);
        rs.columns[0].name.assign(name);
        rs.columns[0].type = type;
    }
    rs.values.resize(1);
    rs.values[0] = std::move(v);
    return 0;
}

int64_t HostTimestamp(surge_call* call) { return call->timestamp; }

// splitmix64: a small, well-mixed generator; the transaction id seeds it.
uint64_t HostRandom(surge_call* call) {
    uint64_t z = (call->random_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

const char* HostCallError(surge_call* call, size_t* len) { return Borrow(call->error, len); }

void HostSetMessage(surge_call* call, const char* m, size_t len) { call->message.assign(m ? m : "", m ? len : 0); }

const surge_host_api kHostApi = {
    SURGE_PROCEDURE_ABI, HostDeclare,   HostParameters,   HostDefinitionError, HostSetDefinitionError,
    HostQueue,           HostExecute,   HostResultCount,  HostRowCount,        HostColumnCount,
    HostColumn,          HostCell,      HostReturnResult, HostReturnValue,     HostTimestamp,
    HostRandom,          HostCallError, HostSetMessage,
};

std::string TypeList(const std::vector<SqlType>& types) {
    std::string out;
    for (const auto& t : types) out += (out.empty() ? "" : ", ") + TypeName(SqlType::Of(t.id));
    return out;
}

}  // namespace

// ------------------------------------------------------------------ NativeProcedure

NativeProcedure::~NativeProcedure() {
    if (instance_) class_->destroy(instance_);
}

NativeOutcome NativeProcedure::Run(NativeTarget target, std::span<const Value> params, int64_t timestamp,
                                   uint64_t txn_id, std::span<const exec::ResultSet>* answer) {
    NativeOutcome out;
    std::span<const Value> args = params;
    if (params_declared_) {
        if (params.size() != param_types_.size()) {
            out.kind = NativeOutcome::Kind::kError;
            out.invalid_parameter = true;
            out.status =
                Status(ErrorCode::kInvalidParameter,
                       "procedure " + name() + " takes " + std::to_string(param_types_.size()) + " parameters (" +
                           TypeList(param_types_) + "), not " + std::to_string(params.size()));
            return out;
        }
        converted_.resize(params.size());
        for (size_t i = 0; i < params.size(); ++i) {
            try {
                if (param_types_[i].id == TypeId::kBoolean) {
                    // Not a column type, so not one CoerceForColumn knows: only booleans and NULL.
                    if (!params[i].is_null() && params[i].type() != TypeId::kBoolean) {
                        throw SqlError(Status(ErrorCode::kTypeMismatch,
                                              "cannot use " + TypeName(SqlType::Of(params[i].type())) + " as BOOLEAN"));
                    }
                    converted_[i] = params[i].is_null() ? Value::Null(TypeId::kBoolean) : params[i];
                    continue;
                }
                converted_[i] = params[i];  // reuses the slot's string buffer; usually the type already matches
                CoerceForColumnInPlace(&converted_[i], param_types_[i], "");
            } catch (const SqlError& e) {
                out.kind = NativeOutcome::Kind::kError;
                out.invalid_parameter = true;
                out.status = Status(ErrorCode::kInvalidParameter, "parameter " + std::to_string(i + 1) + " of " +
                                                                      name() + ": " + e.status().message());
                return out;
            }
        }
        args = converted_;
    }
    if (!call_) call_ = std::make_unique<surge_call>();
    surge_call& call = *call_;
    call.proc = this;
    call.target = target;
    call.timestamp = timestamp;
    call.random_state = txn_id * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull;
    Trim(call.results, call.results_used);
    Trim(call.answer, call.answer_used);
    call.queued.clear();
    call.queued_params.clear();
    call.results_used = 0;
    call.batch_start.clear();
    call.texts.clear();
    call.answer_used = 0;
    call.failure = Status::Ok();
    call.error.clear();
    call.message.clear();
    call.raw.clear();
    for (const Value& v : args) call.raw.push_back(ToAbi(v, &call.texts));
    const int32_t rc = class_->run(instance_, &kHostApi, &call, call.raw.data(), call.raw.size());
    switch (rc) {
        case SURGE_RUN_OK:
            break;
        case SURGE_RUN_ABORT:
            out.kind = NativeOutcome::Kind::kAbort;
            out.status = Status(ErrorCode::kTransactionState, call.message);
            break;
        case SURGE_RUN_SQL_ERROR:
            out.kind = NativeOutcome::Kind::kSqlError;
            out.status = call.failure.ok() ? Status(ErrorCode::kInternal, call.message)
                                           : Status(call.failure.code(), call.message);
            break;
        default:
            out.kind = NativeOutcome::Kind::kError;
            out.status = Status(ErrorCode::kInternal, "procedure " + name() + " threw an exception: " + call.message);
    }
    *answer = out.kind == NativeOutcome::Kind::kOk
                  ? std::span<const exec::ResultSet>(call.answer.data(), call.answer_used)
                  : std::span<const exec::ResultSet>();
    return out;
}

// ------------------------------------------------------------------ NativeProcedures

namespace {

std::string Which(const catalog::ProcedureDef& def) {
    return "procedure " + def.name + " (library '" + def.library + "', class '" + def.class_name + "')";
}

// Checks that an existing instance's statements still plan after a schema change.
Status Recheck(const NativeProcedure& p, NativeTarget target) {
    for (size_t i = 0; i < p.statements().size(); ++i) {
        const std::string& sql = p.statements()[i];
        Status s = PlanOn(target, sql, nullptr);
        if (!s.ok()) {
            return Status(ErrorCode::kInvalidDefinition,
                          "the change breaks " + Which(p.def()) + ": statement " + std::to_string(i) + " (" + sql +
                              ") no longer plans: " + s.message() + "; drop or change the procedure first");
        }
    }
    return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<NativeProcedure>> NativeProcedure::Create(
    const std::shared_ptr<const catalog::ProcedureDef>& def, NativeTarget target) {
    auto lib = NativeLibrary::Open(def->library);
    if (!lib.ok()) return Status(lib.status().code(), "procedure " + def->name + ": " + lib.status().message());
    const surge_procedure_v1* cls = (*lib)->Find(def->class_name);
    if (!cls) {
        return Status(ErrorCode::kInvalidDefinition, "procedure " + def->name + ": library '" + def->library +
                                                         "' has no class '" + def->class_name +
                                                         "' (it has: " + (*lib)->ClassList() + ")");
    }
    auto p = std::shared_ptr<NativeProcedure>(new NativeProcedure());
    p->def_ = def;
    p->library_ = std::move(*lib);
    p->class_ = cls;
    p->instance_ = cls->create();
    if (!p->instance_) return Status(ErrorCode::kInvalidDefinition, Which(*def) + ": the constructor failed");
    surge_definition d;
    d.proc = p.get();
    d.target = target;
    if (cls->init(p->instance_, &kHostApi, &d) != 0) {
        return Status(ErrorCode::kInvalidDefinition,
                      Which(*def) + ": Init failed: " + (d.error.empty() ? "no reason given" : d.error));
    }
    if (def->partition_table && p->params_declared_ &&
        static_cast<size_t>(def->partition_parameter) >= p->param_types_.size()) {
        return Status(ErrorCode::kInvalidDefinition, "PARAMETER " + std::to_string(def->partition_parameter) +
                                                         " is out of range: " + Which(*def) + " declares " +
                                                         std::to_string(p->param_types_.size()) + " parameters");
    }
    return p;
}

Result<NativeProcedures::Set> NativeProcedures::Stage(const catalog::Catalog& cat, NativeTarget target) const {
    Set next;
    for (const auto& [name, def] : cat.procedures()) {
        if (!def->is_native()) continue;
        const bool single = def->partition_table.has_value();
        if (single != (target.engine != nullptr)) continue;
        auto it = set_.find(name);
        if (it != set_.end() && it->second->def_ == def) {
            Status s = Recheck(*it->second, target);
            if (!s.ok()) return s;
            next.emplace(name, it->second);
            continue;
        }
        auto created = NativeProcedure::Create(def, target);
        if (!created.ok()) return created.status();
        next.emplace(name, std::move(*created));
    }
    return next;
}

NativeProcedure* NativeProcedures::Find(std::string_view name) const {
    auto it = set_.find(name);
    return it == set_.end() ? nullptr : it->second.get();
}

}  // namespace surge::proc

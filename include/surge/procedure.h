// SurgeDB procedure SDK: stored procedures written in C++, compiled into a shared library and
// loaded by DDL:
//
//   CREATE PROCEDURE Vote PARTITION ON TABLE votes COLUMN phone_number PARAMETER 0
//     FROM LIBRARY '/opt/voter/libvoter.so' [CLASS 'Vote'];
//
// A procedure is a class with Init (declare its statements and parameter types, once per
// partition when the library is loaded) and Run (one transaction):
//
//   class Vote : public surge::sdk::Procedure {
//       surge::sdk::Statement check_;
//     public:
//       void Init(surge::sdk::Definition& def) override {
//           def.Parameters({surge::sdk::Type::kBigInt, surge::sdk::Type::kInteger});
//           check_ = def.Declare("SELECT COUNT(*) FROM contestants WHERE contestant_number = ?");
//       }
//       void Run(surge::sdk::Context& ctx, const surge::sdk::Params& p) override {
//           ctx.Queue(check_, p[1]);
//           auto batch = ctx.ExecuteBatch();
//           if (batch[0].GetInt(0, 0) == 0) ctx.Abort("no such contestant");
//           ctx.Return("result", 0);
//       }
//   };
//   SURGE_EXPORT_PROCEDURES(SURGE_PROCEDURE(Vote))
//
// Everything a procedure does goes through its Context: statements run inside the call's
// transaction; ExecuteBatch throws surge::sdk::SqlError when a statement fails (that statement's
// writes are undone; catch it to go on, or let it escape to roll the whole call back); Abort rolls
// the call back and answers USER_ABORT. Timestamp() is the transaction's timestamp and Random() a
// generator seeded by the transaction: never read the wall clock or rand(), so that a replayed
// call does exactly what it did the first time. An instance exists per partition and is only ever
// called by that partition's thread; it may keep state between calls, but no state shared with
// other instances.
//
// Between the server and the library the interface is C (the first half of this file), so a
// library built with other compiler flags or another C++ compiler loads fine; the C++ classes
// below are inline wrappers compiled into the library. The ABI is versioned by the exported
// symbol's name (surge_procedures_v1).
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Value types, as SQL names them. */
enum surge_type {
    SURGE_TYPE_NULL = 0, /* an untyped NULL (parameters only) */
    SURGE_TYPE_TINYINT = 1,
    SURGE_TYPE_SMALLINT = 2,
    SURGE_TYPE_INTEGER = 3,
    SURGE_TYPE_BIGINT = 4,
    SURGE_TYPE_FLOAT = 5,
    SURGE_TYPE_DECIMAL = 6, /* exact decimal text, e.g. "12.50" */
    SURGE_TYPE_VARCHAR = 7,
    SURGE_TYPE_VARBINARY = 8,
    SURGE_TYPE_TIMESTAMP = 9, /* microseconds since 1970-01-01 UTC */
    SURGE_TYPE_BOOLEAN = 10
};

/* One value. str borrows memory owned by whoever made the value: parameters and result cells
   stay valid until Run returns; values passed to the server are copied before the call returns. */
typedef struct surge_value {
    int32_t type;    /* enum surge_type */
    int32_t is_null; /* 1 for NULL (of any type) */
    int64_t i;       /* integers, TIMESTAMP, BOOLEAN (0 or 1) */
    double d;        /* FLOAT */
    const char* str; /* VARCHAR, VARBINARY, DECIMAL text */
    size_t len;
} surge_value;

typedef struct surge_definition surge_definition; /* a procedure being loaded (Init) */
typedef struct surge_call surge_call;             /* one running call (Run) */

/* What the server offers a procedure. Functions returning int32_t return 0 on success and -1 on
   failure, with the reason in definition_error / call_error. */
typedef struct surge_host_api {
    uint32_t abi_version; /* SURGE_PROCEDURE_ABI */
    /* Init: declares a statement; returns its number (0, 1, ...) or -1 when it does not plan. */
    int32_t (*declare)(surge_definition* def, const char* sql, size_t len);
    /* Init: the parameter types calls must convert to (a call with another count is refused). */
    int32_t (*parameters)(surge_definition* def, const int32_t* types, size_t count);
    const char* (*definition_error)(surge_definition* def, size_t* len);
    /* Init: records why Init failed (copied). */
    void (*set_definition_error)(surge_definition* def, const char* message, size_t len);

    /* Run: queues a declared statement with its parameters (copied). */
    int32_t (*queue)(surge_call* call, int32_t statement, const surge_value* params, size_t count);
    /* Run: executes the queued statements in order; on success *batch names their results. */
    int32_t (*execute)(surge_call* call, int64_t* batch);
    size_t (*result_count)(surge_call* call, int64_t batch);
    size_t (*row_count)(surge_call* call, int64_t batch, size_t result);
    size_t (*column_count)(surge_call* call, int64_t batch, size_t result);
    /* Column name (borrowed, valid until Run returns) and type. */
    int32_t (*column)(surge_call* call, int64_t batch, size_t result, size_t column, const char** name,
                      size_t* name_len, int32_t* type);
    int32_t (*cell)(surge_call* call, int64_t batch, size_t result, size_t row, size_t column, surge_value* out);
    /* Adds a batch's result to what the call answers. */
    int32_t (*return_result)(surge_call* call, int64_t batch, size_t result);
    /* Adds a one-row, one-column table to what the call answers. */
    int32_t (*return_value)(surge_call* call, const char* column, size_t column_len, const surge_value* value);
    int64_t (*timestamp)(surge_call* call);
    uint64_t (*random)(surge_call* call);
    const char* (*call_error)(surge_call* call, size_t* len);
    /* The message Run's SURGE_RUN_ABORT or SURGE_RUN_ERROR answers with (copied). */
    void (*set_message)(surge_call* call, const char* message, size_t len);
} surge_host_api;

#define SURGE_PROCEDURE_ABI 1

enum surge_run_status {
    SURGE_RUN_OK = 0,
    SURGE_RUN_ABORT = 1,     /* the procedure aborted: USER_ABORT with its message */
    SURGE_RUN_SQL_ERROR = 2, /* a statement failed and the procedure let it fail the call */
    SURGE_RUN_ERROR = 3      /* anything else the procedure threw */
};

/* One procedure class of a library. */
typedef struct surge_procedure_v1 {
    const char* class_name;
    void* (*create)(void); /* a new instance, or NULL */
    void (*destroy)(void* self);
    /* Returns 0, or -1 with the reason in definition_error (or the host's own message). */
    int32_t (*init)(void* self, const surge_host_api* api, surge_definition* def);
    int32_t (*run)(void* self, const surge_host_api* api, surge_call* call, const surge_value* params,
                   size_t count); /* enum surge_run_status */
} surge_procedure_v1;

typedef struct surge_library_v1 {
    uint32_t abi_version; /* SURGE_PROCEDURE_ABI */
    size_t count;
    const surge_procedure_v1* procedures;
} surge_library_v1;

/* The one symbol a procedure library exports. */
typedef const surge_library_v1* (*surge_procedures_v1_fn)(void);

#ifdef __cplusplus
}  // extern "C"

#include <exception>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace surge::sdk {

enum class Type : int32_t {
    kNull = SURGE_TYPE_NULL,
    kTinyInt = SURGE_TYPE_TINYINT,
    kSmallInt = SURGE_TYPE_SMALLINT,
    kInteger = SURGE_TYPE_INTEGER,
    kBigInt = SURGE_TYPE_BIGINT,
    kFloat = SURGE_TYPE_FLOAT,
    kDecimal = SURGE_TYPE_DECIMAL,
    kVarchar = SURGE_TYPE_VARCHAR,
    kVarbinary = SURGE_TYPE_VARBINARY,
    kTimestamp = SURGE_TYPE_TIMESTAMP,
    kBoolean = SURGE_TYPE_BOOLEAN,
};

/// A value that borrows its text: a parameter, a result cell, or an argument to Queue/Return
/// (copied by the server before those return).
class Value {
  public:
    Value() { v_.is_null = 1; }  ///< untyped NULL
    /// Integers up to 32 bits are INTEGER, wider ones BIGINT.
    template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
    Value(T x) {  // NOLINT(google-explicit-constructor)
        Int(sizeof(T) <= 4 && std::is_signed_v<T> ? SURGE_TYPE_INTEGER : SURGE_TYPE_BIGINT, static_cast<int64_t>(x));
    }
    Value(double x) : v_{SURGE_TYPE_FLOAT, 0, 0, x, nullptr, 0} {}  // NOLINT(google-explicit-constructor)
    Value(bool x) { Int(SURGE_TYPE_BOOLEAN, x ? 1 : 0); }           // NOLINT(google-explicit-constructor)
    Value(std::string_view s) { Str(SURGE_TYPE_VARCHAR, s); }       // NOLINT(google-explicit-constructor)
    Value(const char* s) { Str(SURGE_TYPE_VARCHAR, s); }            // NOLINT(google-explicit-constructor)
    Value(const std::string& s) { Str(SURGE_TYPE_VARCHAR, s); }     // NOLINT(google-explicit-constructor)
    explicit Value(const surge_value& raw) : v_(raw) {}
    static Value Null(Type t = Type::kNull) {
        Value v;
        v.v_.type = static_cast<int32_t>(t);
        return v;
    }
    static Value Timestamp(int64_t micros) {
        Value v;
        v.Int(SURGE_TYPE_TIMESTAMP, micros);
        return v;
    }
    static Value Bytes(std::string_view b) {
        Value v;
        v.Str(SURGE_TYPE_VARBINARY, b);
        return v;
    }
    static Value Decimal(std::string_view text) {
        Value v;
        v.Str(SURGE_TYPE_DECIMAL, text);
        return v;
    }

    Type type() const { return static_cast<Type>(v_.type); }
    bool is_null() const { return v_.is_null != 0; }
    /// Integers, TIMESTAMP, BOOLEAN; FLOAT truncates.
    int64_t AsInt() const { return v_.type == SURGE_TYPE_FLOAT ? static_cast<int64_t>(v_.d) : v_.i; }
    double AsDouble() const { return v_.type == SURGE_TYPE_FLOAT ? v_.d : static_cast<double>(v_.i); }
    bool AsBool() const { return v_.i != 0; }
    /// VARCHAR, VARBINARY, DECIMAL text.
    std::string_view AsString() const { return std::string_view(v_.str ? v_.str : "", v_.len); }
    const surge_value& raw() const { return v_; }

  private:
    void Int(int32_t t, int64_t x) { v_ = surge_value{t, 0, x, 0, nullptr, 0}; }
    void Str(int32_t t, std::string_view s) { v_ = surge_value{t, 0, 0, 0, s.data(), s.size()}; }
    surge_value v_{SURGE_TYPE_NULL, 1, 0, 0, nullptr, 0};
};

/// A call's parameters, converted to the types the procedure declared.
class Params {
  public:
    Params(const surge_value* values, size_t count) : values_(values), count_(count) {}
    size_t size() const { return count_; }
    /// Parameter i, or NULL when there is no such parameter.
    Value operator[](size_t i) const { return i < count_ ? Value(values_[i]) : Value(); }

  private:
    const surge_value* values_;
    size_t count_;
};

/// A statement failed. Its writes are undone; the call's earlier work stands unless this
/// escapes Run.
class SqlError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Thrown by Context::Abort; Run must let it escape.
class AbortError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Thrown by Definition when a statement does not plan or a declaration is refused.
class DefinitionError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A declared statement.
class Statement {
  public:
    Statement() = default;
    int32_t id() const { return id_; }
    bool valid() const { return id_ >= 0; }

  private:
    friend class Definition;
    explicit Statement(int32_t id) : id_(id) {}
    int32_t id_ = -1;
};

/// What Init declares.
class Definition {
  public:
    Definition(const surge_host_api* api, surge_definition* def) : api_(api), def_(def) {}
    /// Plans `sql` (one statement, with ? parameters) now; throws DefinitionError if it does not.
    Statement Declare(std::string_view sql) {
        int32_t id = api_->declare(def_, sql.data(), sql.size());
        if (id < 0) throw DefinitionError(Error());
        return Statement(id);
    }
    /// The types a call's parameters convert to; a call with another number of parameters, or a
    /// parameter that does not convert, is refused (INVALID_PARAMETER) before Run.
    void Parameters(std::initializer_list<Type> types) {
        static_assert(sizeof(Type) == sizeof(int32_t));
        if (api_->parameters(def_, reinterpret_cast<const int32_t*>(types.begin()), types.size()) != 0) {
            throw DefinitionError(Error());
        }
    }

  private:
    std::string Error() const {
        size_t n = 0;
        const char* m = api_->definition_error(def_, &n);
        return std::string(m, n);
    }
    const surge_host_api* api_;
    surge_definition* def_;
};

/// One result of a batch: rows of columns. Valid until Run returns.
class Table {
  public:
    Table(const surge_host_api* api, surge_call* call, int64_t batch, size_t index)
        : api_(api), call_(call), batch_(batch), index_(index) {}
    size_t row_count() const { return api_->row_count(call_, batch_, index_); }
    size_t column_count() const { return api_->column_count(call_, batch_, index_); }
    std::string_view ColumnName(size_t col) const {
        const char* name = nullptr;
        size_t len = 0;
        int32_t type = 0;
        api_->column(call_, batch_, index_, col, &name, &len, &type);
        return std::string_view(name ? name : "", len);
    }
    Type ColumnType(size_t col) const {
        const char* name = nullptr;
        size_t len = 0;
        int32_t type = 0;
        api_->column(call_, batch_, index_, col, &name, &len, &type);
        return static_cast<Type>(type);
    }
    /// A cell; NULL when row or column is out of range.
    Value Get(size_t row, size_t col) const {
        surge_value v{SURGE_TYPE_NULL, 1, 0, 0, nullptr, 0};
        api_->cell(call_, batch_, index_, row, col, &v);
        return Value(v);
    }
    int64_t GetInt(size_t row, size_t col) const { return Get(row, col).AsInt(); }
    /// For DML: the number of rows changed.
    int64_t modified_tuples() const { return GetInt(0, 0); }
    int64_t batch() const { return batch_; }
    size_t index() const { return index_; }

  private:
    const surge_host_api* api_;
    surge_call* call_;
    int64_t batch_;
    size_t index_;
};

/// The results of one ExecuteBatch, one Table per queued statement, in order.
class Batch {
  public:
    Batch(const surge_host_api* api, surge_call* call, int64_t id) : api_(api), call_(call), id_(id) {}
    size_t size() const { return api_->result_count(call_, id_); }
    Table operator[](size_t i) const { return Table(api_, call_, id_, i); }

  private:
    const surge_host_api* api_;
    surge_call* call_;
    int64_t id_;
};

/// One call: its transaction's statements, timestamp, random source and answer.
class Context {
  public:
    Context(const surge_host_api* api, surge_call* call) : api_(api), call_(call) {}

    /// Queues a declared statement with its parameters (converted to the statement's parameter
    /// types when it runs).
    template <typename... Args>
    void Queue(Statement stmt, const Args&... args) {
        const surge_value values[] = {Value(args).raw()..., surge_value{}};
        Check(api_->queue(call_, stmt.id(), values, sizeof...(Args)));
    }
    void QueueValues(Statement stmt, const Value* values, size_t count) {
        static_assert(sizeof(Value) == sizeof(surge_value));
        Check(api_->queue(call_, stmt.id(), reinterpret_cast<const surge_value*>(values), count));
    }
    /// Runs the queued statements in order, in the call's transaction. Throws SqlError (with the
    /// failing statement's message) at the first that fails; later ones do not run.
    Batch ExecuteBatch() {
        int64_t id = -1;
        Check(api_->execute(call_, &id));
        return Batch(api_, call_, id);
    }
    /// Rolls the call back; the client gets USER_ABORT with this message.
    [[noreturn]] void Abort(std::string_view message) { throw AbortError(std::string(message)); }
    /// The transaction's timestamp (microseconds since the epoch); the same for every statement.
    int64_t Timestamp() const { return api_->timestamp(call_); }
    /// The next number of the transaction's random sequence (seeded by the transaction).
    uint64_t Random() { return api_->random(call_); }
    /// Uniform in [0, n) (n > 0).
    uint64_t RandomBelow(uint64_t n) { return Random() % n; }
    /// Adds a batch result to the call's answer.
    void Return(const Table& t) { Check(api_->return_result(call_, t.batch(), t.index())); }
    /// Adds a one-row, one-column table to the call's answer.
    void Return(std::string_view column, const Value& v) {
        Check(api_->return_value(call_, column.data(), column.size(), &v.raw()));
    }

  private:
    void Check(int32_t rc) {
        if (rc == 0) return;
        size_t n = 0;
        const char* m = api_->call_error(call_, &n);
        throw SqlError(std::string(m, n));
    }
    const surge_host_api* api_;
    surge_call* call_;
};

/// Base class of a procedure. One instance per partition (and one for multi-partition calls).
class Procedure {
  public:
    virtual ~Procedure() = default;
    /// Declares statements and parameter types; runs when the procedure is created or the
    /// library loaded.
    virtual void Init(Definition& def) = 0;
    /// One call, in one transaction.
    virtual void Run(Context& ctx, const Params& params) = 0;
};

namespace detail {

inline void SetMessage(const surge_host_api* api, surge_call* call, std::string_view m) {
    api->set_message(call, m.data(), m.size());
}

template <class P>
struct Thunks {
    static void* Create() noexcept {
        try {
            return static_cast<Procedure*>(new P());
        } catch (...) {
            return nullptr;
        }
    }
    static void Destroy(void* self) noexcept { delete static_cast<Procedure*>(self); }
    static int32_t Init(void* self, const surge_host_api* api, surge_definition* def) noexcept {
        try {
            Definition d(api, def);
            static_cast<Procedure*>(self)->Init(d);
            return 0;
        } catch (const DefinitionError&) {
            return -1;  // the host already holds the reason
        } catch (const std::exception& e) {
            api->set_definition_error(def, e.what(), std::char_traits<char>::length(e.what()));
            return -1;
        } catch (...) {
            static const char kWhat[] = "Init threw an exception that is not a std::exception";
            api->set_definition_error(def, kWhat, sizeof(kWhat) - 1);
            return -1;
        }
    }
    static int32_t Run(void* self, const surge_host_api* api, surge_call* call, const surge_value* params,
                       size_t count) noexcept {
        try {
            Context ctx(api, call);
            static_cast<Procedure*>(self)->Run(ctx, Params(params, count));
            return SURGE_RUN_OK;
        } catch (const AbortError& e) {
            SetMessage(api, call, e.what());
            return SURGE_RUN_ABORT;
        } catch (const SqlError& e) {
            SetMessage(api, call, e.what());
            return SURGE_RUN_SQL_ERROR;
        } catch (const std::exception& e) {
            SetMessage(api, call, e.what());
            return SURGE_RUN_ERROR;
        } catch (...) {
            SetMessage(api, call, "an exception that is not a std::exception");
            return SURGE_RUN_ERROR;
        }
    }
};

}  // namespace detail
}  // namespace surge::sdk

// clang-format off
/// One entry of SURGE_EXPORT_PROCEDURES: the class, named in DDL's CLASS clause by its C++ name.
#define SURGE_PROCEDURE(cls)                                                   \
    surge_procedure_v1{#cls, &::surge::sdk::detail::Thunks<cls>::Create,       \
                       &::surge::sdk::detail::Thunks<cls>::Destroy,            \
                       &::surge::sdk::detail::Thunks<cls>::Init,               \
                       &::surge::sdk::detail::Thunks<cls>::Run}

/// Exports the library's procedure classes (once per library, at namespace scope).
#define SURGE_EXPORT_PROCEDURES(...)                                                          \
    extern "C" __attribute__((visibility("default"))) const surge_library_v1*                 \
    surge_procedures_v1(void) {                                                               \
        static const surge_procedure_v1 procedures[] = {__VA_ARGS__};                        \
        static const surge_library_v1 library = {                                            \
            SURGE_PROCEDURE_ABI, sizeof(procedures) / sizeof(procedures[0]), procedures};    \
        return &library;                                                                      \
    }
// clang-format on

#endif  // __cplusplus

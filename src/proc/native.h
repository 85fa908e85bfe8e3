// Native procedures: C++ procedure classes from shared libraries (include/surge/procedure.h),
// loaded by `CREATE PROCEDURE name ... FROM LIBRARY 'path' [CLASS 'name']`.
//
// Each executor — every partition, and the multi-partition coordinator — keeps its own set of
// procedure instances (NativeProcedures) and only its thread uses them. A schema change stages
// the new set against the new catalog (loading libraries, creating and initializing instances,
// planning every declared statement), and the server commits the staged sets only if every
// executor staged without error, so a library that does not load or a statement that does not
// plan refuses the DDL and changes nothing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "exec/engine.h"
#include "types/value.h"

struct surge_procedure_v1;
struct surge_call;

namespace surge::proc {

class NativeLibrary;

/// Where a native procedure's statements run: one partition's engine (single-partition
/// procedures), or the spanning executor over all partitions (multi-partition procedures).
struct NativeTarget {
    exec::Engine* engine = nullptr;
    exec::SpanningExecutor* span = nullptr;
};

/// How a call ended.
struct NativeOutcome {
    enum class Kind {
        kOk,
        kAbort,     ///< ctx.Abort: USER_ABORT with `status`'s message
        kSqlError,  ///< a statement failed and the procedure let it fail the call: `status`
        kError,     ///< the procedure threw something else, or a parameter was refused
    };
    Kind kind = Kind::kOk;
    Status status;
    bool invalid_parameter = false;  ///< kError because a parameter did not convert
};

/// One instance of one procedure class, bound to one executor.
class NativeProcedure {
  public:
    ~NativeProcedure();
    const std::string& name() const { return def_->name; }
    const catalog::ProcedureDef& def() const { return *def_; }
    /// Declared parameter types, or empty when the procedure declared none (parameters pass as
    /// the client sent them).
    const std::vector<SqlType>& parameter_types() const { return param_types_; }
    bool parameters_declared() const { return params_declared_; }
    const std::vector<std::string>& statements() const { return statements_; }

    /// One call, inside a transaction the caller opened on the target (and commits unless the
    /// outcome is an error). *answer receives what the procedure returned (empty unless the
    /// outcome is kOk); it stays valid until the next Run of this procedure.
    NativeOutcome Run(NativeTarget target, std::span<const Value> params, int64_t timestamp, uint64_t txn_id,
                      std::span<const exec::ResultSet>* answer);

  private:
    friend class NativeProcedures;
    friend struct NativeCallAccess;
    NativeProcedure() = default;
    static Result<std::shared_ptr<NativeProcedure>> Create(const std::shared_ptr<const catalog::ProcedureDef>& def,
                                                           NativeTarget target);

    std::shared_ptr<const catalog::ProcedureDef> def_;
    std::shared_ptr<NativeLibrary> library_;  ///< outlives instance_
    const surge_procedure_v1* class_ = nullptr;
    void* instance_ = nullptr;
    std::vector<std::string> statements_;
    std::vector<std::shared_ptr<exec::PreparedStatement>> prepared_;  ///< single-partition target
    bool params_declared_ = false;
    std::vector<SqlType> param_types_;
    std::vector<Value> converted_;      ///< reused per call
    std::unique_ptr<surge_call> call_;  ///< reused per call
};

/// An executor's procedure instances.
class NativeProcedures {
  public:
    using Set = std::map<std::string, std::shared_ptr<NativeProcedure>, std::less<>>;

    /// The set `cat` calls for on this target: single-partition native procedures for a partition
    /// (target.engine), multi-partition ones for the coordinator (target.span). Instances whose
    /// definition is unchanged are kept (their statements re-checked against the new schema);
    /// new ones are created and initialized. kInvalidDefinition (naming the procedure) when a
    /// library does not load, a class is missing, Init fails or a statement does not plan.
    Result<Set> Stage(const catalog::Catalog& cat, NativeTarget target) const;
    void Commit(Set staged) { set_ = std::move(staged); }

    /// The instance of `name` (folded), or nullptr.
    NativeProcedure* Find(std::string_view name) const;

  private:
    Set set_;
};

}  // namespace surge::proc

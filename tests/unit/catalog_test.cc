// Tests for catalog/: immutable, versioned catalogs. Every Builder change lands in a new version
// only; earlier versions (and the definitions they share) never change. Names are looked up
// exactly as stored (the parser folds unquoted identifiers before they reach the catalog), and
// taken or missing names raise SqlError with the documented error codes.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"

namespace surge::catalog {
namespace {

// ---- helpers ------------------------------------------------------------------------------------

ColumnDef Col(std::string name, TypeId t, bool nullable = true) {
    ColumnDef c;
    c.name = std::move(name);
    c.type = SqlType::Of(t);
    c.nullable = nullable;
    return c;
}

TableDef Table(std::string name,
               std::vector<ColumnDef> columns = {Col("id", TypeId::kInteger, false), Col("v", TypeId::kBigInt)}) {
    TableDef t;
    t.name = std::move(name);
    t.columns = std::move(columns);
    return t;
}

IndexDef Index(std::string name, std::string table, std::vector<int> columns, Uniqueness u = Uniqueness::kNone,
               IndexKind kind = IndexKind::kOrdered) {
    IndexDef idx;
    idx.name = std::move(name);
    idx.table = std::move(table);
    idx.kind = kind;
    idx.uniqueness = u;
    for (int c : columns) idx.key.push_back({c, {}, SqlType::Of(TypeId::kInteger)});
    return idx;
}

ProcedureDef Proc(std::string name, std::string sql) {
    ProcedureDef p;
    p.name = std::move(name);
    p.sql = std::move(sql);
    return p;
}

/// Runs f and returns the ErrorCode of the SqlError it throws (kOk if it does not throw).
template <typename F>
ErrorCode CodeOf(F&& f) {
    try {
        f();
    } catch (const SqlError& e) {
        return e.code();
    }
    return ErrorCode::kOk;
}

/// A catalog with table t (id, v), its primary key t_pkey and a secondary index t_v.
CatalogPtr Base() {
    auto b = Catalog::Empty()->Edit();
    b.AddTable(Table("t"));
    b.AddIndex(Index("t_v", "t", {1}));
    b.AddIndex(Index("t_pkey", "t", {0}, Uniqueness::kPrimaryKey));
    return b.Build();
}

// ---- versions -----------------------------------------------------------------------------------

TEST(CatalogTest, EmptyIsVersionOne) {
    CatalogPtr c = Catalog::Empty();
    EXPECT_EQ(c->version(), 1u);
    EXPECT_TRUE(c->tables().empty());
    EXPECT_TRUE(c->indexes().empty());
    EXPECT_TRUE(c->procedures().empty());
    EXPECT_EQ(c->FindTable("t"), nullptr);
    EXPECT_EQ(c->FindIndex("i"), nullptr);
    EXPECT_EQ(c->FindProcedure("p"), nullptr);
}

TEST(CatalogTest, EachBuildIsTheNextVersion) {
    CatalogPtr v1 = Catalog::Empty();
    auto b = v1->Edit();
    EXPECT_EQ(b.current().version(), 2u);
    b.AddTable(Table("a"));
    CatalogPtr v2 = b.Build();
    EXPECT_EQ(v2->version(), 2u);
    CatalogPtr v3 = v2->Edit().Build();  // even an empty edit publishes a new version
    EXPECT_EQ(v3->version(), 3u);
    EXPECT_NE(v3->FindTable("a"), nullptr);
    EXPECT_EQ(v1->version(), 1u);
}

TEST(CatalogTest, OldVersionsAreUnchangedByAddTable) {
    CatalogPtr v1 = Catalog::Empty();
    auto b = v1->Edit();
    b.AddTable(Table("a"));
    // The builder sees its own change before Build; the base does not.
    EXPECT_NE(b.current().FindTable("a"), nullptr);
    EXPECT_EQ(v1->FindTable("a"), nullptr);
    CatalogPtr v2 = b.Build();
    EXPECT_EQ(v1->FindTable("a"), nullptr);
    EXPECT_TRUE(v1->tables().empty());
    ASSERT_NE(v2->FindTable("a"), nullptr);
    EXPECT_EQ(v2->tables().size(), 1u);
}

TEST(CatalogTest, BuildersFromTheSameBaseAreIndependent) {
    CatalogPtr v1 = Base();
    auto b1 = v1->Edit();
    auto b2 = v1->Edit();
    b1.AddTable(Table("x"));
    b2.DropTable("t");
    CatalogPtr c1 = b1.Build();
    CatalogPtr c2 = b2.Build();
    EXPECT_NE(c1->FindTable("x"), nullptr);
    EXPECT_NE(c1->FindTable("t"), nullptr);
    EXPECT_EQ(c2->FindTable("x"), nullptr);
    EXPECT_EQ(c2->FindTable("t"), nullptr);
    EXPECT_NE(v1->FindTable("t"), nullptr);
}

TEST(CatalogTest, UnchangedDefinitionsAreSharedBetweenVersions) {
    auto b = Catalog::Empty()->Edit();
    b.AddTable(Table("a"));
    b.AddTable(Table("b"));
    b.AddProcedure(Proc("p", "SELECT 1"));
    CatalogPtr v1 = b.Build();
    auto b2 = v1->Edit();
    b2.AddIndex(Index("b_id", "b", {0}));
    CatalogPtr v2 = b2.Build();
    // a and p did not change: the same objects. b changed: a new object, the old one intact.
    EXPECT_EQ(v1->FindTable("a").get(), v2->FindTable("a").get());
    EXPECT_EQ(v1->FindProcedure("p").get(), v2->FindProcedure("p").get());
    EXPECT_NE(v1->FindTable("b").get(), v2->FindTable("b").get());
    EXPECT_TRUE(v1->FindTable("b")->indexes.empty());
    EXPECT_EQ(v2->FindTable("b")->indexes, std::vector<std::string>{"b_id"});
}

TEST(CatalogTest, ReadersKeepTheirVersionAfterTheCatalogMovesOn) {
    CatalogPtr v1 = Base();
    std::shared_ptr<const TableDef> t = v1->FindTable("t");
    auto b = v1->Edit();
    b.DropTable("t");
    CatalogPtr v2 = b.Build();
    v1.reset();  // the reader's shared_ptr to the definition keeps it alive
    EXPECT_EQ(v2->FindTable("t"), nullptr);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->name, "t");
    EXPECT_EQ(t->columns.size(), 2u);
}

// ---- tables -------------------------------------------------------------------------------------

TEST(CatalogTest, AddTableAssignsDistinctIds) {
    auto b = Catalog::Empty()->Edit();
    TableDef a = Table("a");
    a.id = 12345;  // ignored: AddTable assigns the id
    b.AddTable(a);
    b.AddTable(Table("b"));
    CatalogPtr c = b.Build();
    uint64_t ia = c->FindTable("a")->id;
    uint64_t ib = c->FindTable("b")->id;
    EXPECT_NE(ia, 0u);
    EXPECT_NE(ib, 0u);
    EXPECT_NE(ia, ib);
    EXPECT_NE(ia, 12345u);
}

TEST(CatalogTest, RecreatedTableGetsANewId) {
    auto b = Catalog::Empty()->Edit();
    b.AddTable(Table("a"));
    CatalogPtr v1 = b.Build();
    const uint64_t first = v1->FindTable("a")->id;
    auto b2 = v1->Edit();
    b2.DropTable("a");
    CatalogPtr v2 = b2.Build();
    auto b3 = v2->Edit();
    b3.AddTable(Table("a"));
    CatalogPtr v3 = b3.Build();
    EXPECT_NE(v3->FindTable("a")->id, first);
    EXPECT_EQ(v1->FindTable("a")->id, first);
}

TEST(CatalogTest, DuplicateTableIsRejected) {
    CatalogPtr v1 = Base();
    auto b = v1->Edit();
    EXPECT_EQ(CodeOf([&] { b.AddTable(Table("t")); }), ErrorCode::kDuplicateObject);
    // The failed call changed nothing in the builder.
    EXPECT_EQ(b.current().tables().size(), 1u);
    EXPECT_EQ(b.current().FindTable("t")->id, v1->FindTable("t")->id);
    EXPECT_EQ(b.current().FindTable("t")->indexes.size(), 2u);
}

TEST(CatalogTest, LookupUsesTheStoredFoldedName) {
    // The parser folds unquoted names to lower case; the catalog compares exactly, so a quoted
    // mixed-case name and its lower-case spelling are different objects.
    auto b = Catalog::Empty()->Edit();
    b.AddTable(Table("orders"));
    b.AddTable(Table("Orders"));
    CatalogPtr c = b.Build();
    ASSERT_NE(c->FindTable("orders"), nullptr);
    ASSERT_NE(c->FindTable("Orders"), nullptr);
    EXPECT_NE(c->FindTable("orders")->id, c->FindTable("Orders")->id);
    EXPECT_EQ(c->FindTable("ORDERS"), nullptr);
    EXPECT_EQ(c->FindTable("order"), nullptr);
    EXPECT_EQ(c->FindTable("orders "), nullptr);
    EXPECT_EQ(c->tables().size(), 2u);
}

TEST(CatalogTest, ReplaceTableKeepsIdAndLeavesOldVersion) {
    CatalogPtr v1 = Base();
    const auto old = v1->FindTable("t");
    TableDef def = *old;
    def.columns.push_back(Col("extra", TypeId::kVarchar));
    def.id = 0;  // 0 = keep the current id
    auto b = v1->Edit();
    b.ReplaceTable(def);
    CatalogPtr v2 = b.Build();
    EXPECT_EQ(v2->FindTable("t")->id, old->id);
    EXPECT_EQ(v2->FindTable("t")->columns.size(), 3u);
    EXPECT_EQ(v2->FindTable("t")->FindColumn("extra"), 2);
    EXPECT_EQ(v1->FindTable("t")->columns.size(), 2u);
    EXPECT_EQ(v1->FindTable("t")->FindColumn("extra"), -1);
}

TEST(CatalogTest, ReplaceTableWithExplicitIdUsesIt) {
    CatalogPtr v1 = Base();
    TableDef def = *v1->FindTable("t");
    def.id = 999;
    auto b = v1->Edit();
    b.ReplaceTable(def);
    EXPECT_EQ(b.Build()->FindTable("t")->id, 999u);
}

TEST(CatalogTest, ReplaceMissingTableIsUndefined) {
    auto b = Catalog::Empty()->Edit();
    EXPECT_EQ(CodeOf([&] { b.ReplaceTable(Table("nope")); }), ErrorCode::kUndefinedTable);
    EXPECT_TRUE(b.current().tables().empty());
}

TEST(CatalogTest, DropTableDropsItsIndexesOnly) {
    auto b0 = Base()->Edit();
    b0.AddTable(Table("u"));
    b0.AddIndex(Index("u_v", "u", {1}));
    CatalogPtr v1 = b0.Build();
    auto b = v1->Edit();
    b.DropTable("t");
    CatalogPtr v2 = b.Build();
    EXPECT_EQ(v2->FindTable("t"), nullptr);
    EXPECT_EQ(v2->FindIndex("t_v"), nullptr);
    EXPECT_EQ(v2->FindIndex("t_pkey"), nullptr);
    EXPECT_NE(v2->FindIndex("u_v"), nullptr);
    EXPECT_EQ(v2->indexes().size(), 1u);
    // v1 still has everything.
    EXPECT_NE(v1->FindTable("t"), nullptr);
    EXPECT_NE(v1->FindIndex("t_v"), nullptr);
    EXPECT_NE(v1->FindIndex("t_pkey"), nullptr);
    EXPECT_EQ(v1->indexes().size(), 3u);
}

TEST(CatalogTest, DropMissingTableIsUndefined) {
    CatalogPtr v1 = Base();
    auto b = v1->Edit();
    EXPECT_EQ(CodeOf([&] { b.DropTable("nope"); }), ErrorCode::kUndefinedTable);
    EXPECT_EQ(CodeOf([&] { b.DropTable("T"); }), ErrorCode::kUndefinedTable);
    b.DropTable("t");
    EXPECT_EQ(CodeOf([&] { b.DropTable("t"); }), ErrorCode::kUndefinedTable);
}

TEST(CatalogTest, FindColumnIsExact) {
    TableDef t = Table("t", {Col("a", TypeId::kInteger), Col("B", TypeId::kInteger), Col("c", TypeId::kFloat)});
    EXPECT_EQ(t.FindColumn("a"), 0);
    EXPECT_EQ(t.FindColumn("B"), 1);
    EXPECT_EQ(t.FindColumn("b"), -1);
    EXPECT_EQ(t.FindColumn("c"), 2);
    EXPECT_EQ(t.FindColumn("d"), -1);
    EXPECT_EQ(t.FindColumn(""), -1);
    EXPECT_FALSE(t.is_view());
}

// ---- indexes ------------------------------------------------------------------------------------

TEST(CatalogTest, AddIndexAppendsAndPrimaryKeyGoesFirst) {
    CatalogPtr c = Base();  // t_v added before t_pkey
    const auto t = c->FindTable("t");
    ASSERT_EQ(t->indexes.size(), 2u);
    EXPECT_EQ(t->indexes[0], "t_pkey");
    EXPECT_EQ(t->indexes[1], "t_v");
    auto list = c->IndexesOf(*t);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_TRUE(list[0]->is_primary_key());
    EXPECT_TRUE(list[0]->unique());
    EXPECT_EQ(list[1]->name, "t_v");
    EXPECT_FALSE(list[1]->unique());
    EXPECT_EQ(list[1]->table, "t");

    auto b = c->Edit();
    b.AddIndex(Index("t_id_v", "t", {0, 1}, Uniqueness::kUnique, IndexKind::kHash));
    CatalogPtr c2 = b.Build();
    EXPECT_EQ(c2->FindTable("t")->indexes, (std::vector<std::string>{"t_pkey", "t_v", "t_id_v"}));
    EXPECT_EQ(c2->FindIndex("t_id_v")->kind, IndexKind::kHash);
    EXPECT_EQ(c2->FindIndex("t_id_v")->key.size(), 2u);
    // The old version's table still lists two indexes and does not know the new one.
    EXPECT_EQ(c->FindTable("t")->indexes.size(), 2u);
    EXPECT_EQ(c->FindIndex("t_id_v"), nullptr);
}

TEST(CatalogTest, DuplicateIndexIsRejected) {
    CatalogPtr c = Base();
    auto b = c->Edit();
    b.AddTable(Table("u"));
    // Index names are global: the same name on another table is still a duplicate.
    EXPECT_EQ(CodeOf([&] { b.AddIndex(Index("t_v", "u", {0})); }), ErrorCode::kDuplicateObject);
    EXPECT_EQ(CodeOf([&] { b.AddIndex(Index("t_v", "t", {0})); }), ErrorCode::kDuplicateObject);
    EXPECT_TRUE(b.current().FindTable("u")->indexes.empty());
    EXPECT_EQ(b.current().FindTable("t")->indexes.size(), 2u);
    EXPECT_EQ(b.current().FindIndex("t_v")->table, "t");
}

TEST(CatalogTest, IndexOnMissingTableIsUndefined) {
    auto b = Base()->Edit();
    EXPECT_EQ(CodeOf([&] { b.AddIndex(Index("x_a", "x", {0})); }), ErrorCode::kUndefinedTable);
    EXPECT_EQ(b.current().FindIndex("x_a"), nullptr);
}

TEST(CatalogTest, DropIndexRemovesItFromItsTable) {
    CatalogPtr v1 = Base();
    auto b = v1->Edit();
    b.DropIndex("t_v");
    CatalogPtr v2 = b.Build();
    EXPECT_EQ(v2->FindIndex("t_v"), nullptr);
    EXPECT_EQ(v2->FindTable("t")->indexes, std::vector<std::string>{"t_pkey"});
    EXPECT_EQ(v2->IndexesOf(*v2->FindTable("t")).size(), 1u);
    EXPECT_NE(v1->FindIndex("t_v"), nullptr);
    EXPECT_EQ(v1->FindTable("t")->indexes.size(), 2u);
    // The same name can be used again afterwards.
    auto b2 = v2->Edit();
    b2.AddIndex(Index("t_v", "t", {1}, Uniqueness::kUnique));
    CatalogPtr v3 = b2.Build();
    EXPECT_TRUE(v3->FindIndex("t_v")->unique());
    EXPECT_FALSE(v1->FindIndex("t_v")->unique());
}

TEST(CatalogTest, DropMissingIndexIsUndefined) {
    auto b = Base()->Edit();
    EXPECT_EQ(CodeOf([&] { b.DropIndex("nope"); }), ErrorCode::kUndefinedTable);
    EXPECT_EQ(CodeOf([&] { b.DropIndex("T_V"); }), ErrorCode::kUndefinedTable);
    EXPECT_EQ(b.current().indexes().size(), 2u);
}

TEST(CatalogTest, ColumnsOnlyIndexes) {
    IndexDef cols = Index("a", "t", {0, 1});
    EXPECT_TRUE(cols.columns_only());
    IndexDef expr = cols;
    expr.key.push_back({-1, "v + 1", SqlType::Of(TypeId::kBigInt)});
    EXPECT_FALSE(expr.columns_only());
    IndexDef empty;
    EXPECT_TRUE(empty.columns_only());
    EXPECT_FALSE(empty.unique());
    EXPECT_FALSE(empty.is_primary_key());
    IndexDef assume = Index("b", "t", {0}, Uniqueness::kAssumeUnique);
    EXPECT_TRUE(assume.unique());
    EXPECT_FALSE(assume.is_primary_key());
}

// ---- procedures ---------------------------------------------------------------------------------

TEST(CatalogTest, ProceduresAddAndDrop) {
    auto b = Catalog::Empty()->Edit();
    b.AddProcedure(Proc("get", "SELECT * FROM t WHERE id = ?"));
    CatalogPtr v2 = b.Build();
    ASSERT_NE(v2->FindProcedure("get"), nullptr);
    EXPECT_EQ(v2->FindProcedure("get")->sql, "SELECT * FROM t WHERE id = ?");
    EXPECT_EQ(v2->FindProcedure("GET"), nullptr);

    auto b2 = v2->Edit();
    EXPECT_EQ(CodeOf([&] { b2.AddProcedure(Proc("get", "SELECT 2")); }), ErrorCode::kDuplicateObject);
    EXPECT_EQ(b2.current().FindProcedure("get")->sql, "SELECT * FROM t WHERE id = ?");
    b2.DropProcedure("get");
    EXPECT_EQ(CodeOf([&] { b2.DropProcedure("get"); }), ErrorCode::kUndefinedFunction);
    b2.AddProcedure(Proc("get", "SELECT 2"));
    CatalogPtr v3 = b2.Build();
    EXPECT_EQ(v3->FindProcedure("get")->sql, "SELECT 2");
    EXPECT_EQ(v2->FindProcedure("get")->sql, "SELECT * FROM t WHERE id = ?");
    EXPECT_EQ(v3->procedures().size(), 1u);
}

TEST(CatalogTest, DropMissingProcedureIsUndefinedFunction) {
    auto b = Catalog::Empty()->Edit();
    EXPECT_EQ(CodeOf([&] { b.DropProcedure("p"); }), ErrorCode::kUndefinedFunction);
}

TEST(CatalogTest, ProcedureNamesAreSeparateFromTables) {
    auto b = Catalog::Empty()->Edit();
    b.AddTable(Table("x"));
    b.AddIndex(Index("y", "x", {0}));
    b.AddProcedure(Proc("x", "SELECT 1"));
    b.AddProcedure(Proc("y", "SELECT 2"));
    CatalogPtr c = b.Build();
    EXPECT_NE(c->FindTable("x"), nullptr);
    EXPECT_NE(c->FindProcedure("x"), nullptr);
    EXPECT_NE(c->FindIndex("y"), nullptr);
    EXPECT_NE(c->FindProcedure("y"), nullptr);
}

TEST(CatalogTest, ProcedurePartitionFieldsAreKept) {
    ProcedureDef p = Proc("p", "SELECT * FROM t WHERE id = ?");
    p.partition_table = "t";
    p.partition_column = "id";
    p.partition_parameter = 0;
    auto b = Catalog::Empty()->Edit();
    b.AddProcedure(p);
    auto got = b.Build()->FindProcedure("p");
    ASSERT_TRUE(got->partition_table.has_value());
    EXPECT_EQ(*got->partition_table, "t");
    EXPECT_EQ(*got->partition_column, "id");
    EXPECT_EQ(got->partition_parameter, 0);
}

// ---- views --------------------------------------------------------------------------------------

TEST(CatalogTest, ViewsOnFindsViewsOfASourceTable) {
    auto b = Base()->Edit();
    b.AddTable(Table("u"));
    TableDef v = Table("v_t", {Col("count_star", TypeId::kBigInt, false)});
    auto vd = std::make_shared<ViewDef>();
    vd->source_table = "t";
    vd->sql = "CREATE VIEW v_t AS SELECT COUNT(*) FROM t";
    vd->aggregates.push_back({ViewAggKind::kCountStar, -1});
    v.view = vd;
    b.AddTable(v);
    TableDef w = v;
    w.name = "w_t";
    b.AddTable(w);
    CatalogPtr c = b.Build();
    EXPECT_TRUE(c->FindTable("v_t")->is_view());
    EXPECT_FALSE(c->FindTable("t")->is_view());
    auto views = c->ViewsOn("t");
    ASSERT_EQ(views.size(), 2u);
    EXPECT_EQ(views[0]->name, "v_t");
    EXPECT_EQ(views[1]->name, "w_t");
    EXPECT_TRUE(c->ViewsOn("u").empty());
    EXPECT_TRUE(c->ViewsOn("v_t").empty());
    EXPECT_TRUE(c->ViewsOn("nope").empty());

    auto b2 = c->Edit();
    b2.DropTable("v_t");
    CatalogPtr c2 = b2.Build();
    EXPECT_EQ(c2->ViewsOn("t").size(), 1u);
    EXPECT_EQ(c->ViewsOn("t").size(), 2u);
}

TEST(CatalogTest, IndexesOfSkipsNamesWithoutDefinitions) {
    CatalogPtr c = Base();
    TableDef t = *c->FindTable("t");
    t.indexes.push_back("ghost");
    auto list = c->IndexesOf(t);
    EXPECT_EQ(list.size(), 2u);
}

}  // namespace
}  // namespace surge::catalog

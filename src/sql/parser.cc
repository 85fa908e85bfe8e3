// The parser driver: runs the tokenizer, feeds Lemon, and cuts the text of each statement.
#include "sql/parser.h"

#include <cstdlib>

#include "common/status.h"
#include "sql/ast_builder.h"
#include "sql/parse.h"

// Lemon's generated entry points (parse.cc).
void* SurgeParseAlloc(void* (*malloc_proc)(size_t));
void SurgeParseFree(void* parser, void (*free_proc)(void*));
void SurgeParse(void* parser, int token_code, surge::sql::Token token, surge::sql::AstBuilder* builder);

namespace surge::sql {

namespace {

struct LemonParser {
    void* p = SurgeParseAlloc(std::malloc);
    ~LemonParser() { SurgeParseFree(p, std::free); }
};

std::string PosText(SourcePos p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

}  // namespace

ParseResult Parse(std::string_view sql) {
    if (sql.size() > kMaxStatementLength) {
        ThrowSqlError(ErrorCode::kLimitExceeded, "statement text of " + std::to_string(sql.size()) +
                                                     " bytes exceeds the limit of " +
                                                     std::to_string(kMaxStatementLength));
    }
    ParseResult result;
    result.arena = std::make_unique<AstArena>();
    AstBuilder builder(sql, result.arena.get());
    LemonParser parser;
    Tokenizer tokenizer(sql);

    // [begin, end) of each non-empty statement's text. Lemon reduces a statement one token after
    // its `;`, so spans are recorded here, in order, and matched to statements by position.
    std::vector<std::pair<uint32_t, uint32_t>> spans;
    bool in_statement = false;
    uint32_t begin = 0;
    uint32_t last_end = 0;
    Token tok;
    while (true) {
        tok = tokenizer.Next();
        if (tok.type == kTokenSpace) continue;
        if (tok.type == kTokenIllegal) {
            ThrowSqlError(ErrorCode::kSyntaxError, "syntax error at " + PosText(tok.pos) + ": unrecognized token \"" +
                                                       std::string(tok.text) + "\"");
        }
        if (tok.type == kTokenUnterminated) {
            ThrowSqlError(ErrorCode::kSyntaxError,
                          "syntax error at " + PosText(tok.pos) + ": unterminated string, identifier or comment");
        }
        if (tok.type == 0) break;
        if (tok.type == TK_SEMI) {
            if (in_statement) spans.emplace_back(begin, last_end);
            in_statement = false;
        } else {
            if (!in_statement) begin = tok.offset;
            in_statement = true;
            last_end = tok.offset + static_cast<uint32_t>(tok.text.size());
        }
        SurgeParse(parser.p, tok.type, tok, &builder);
    }
    if (in_statement) {
        // The final `;` is optional: supply one with empty text (so errors say "end of input").
        spans.emplace_back(begin, last_end);
        Token end{TK_SEMI, {}, static_cast<uint32_t>(sql.size()), tok.pos};
        SurgeParse(parser.p, TK_SEMI, end, &builder);
    }
    Token eof{0, {}, static_cast<uint32_t>(sql.size()), tok.pos};
    SurgeParse(parser.p, 0, eof, &builder);

    result.statements = std::move(builder.statements());
    for (size_t i = 0; i < result.statements.size() && i < spans.size(); ++i) {
        Statement* s = result.statements[i];
        s->text = std::string(sql.substr(spans[i].first, spans[i].second - spans[i].first));
        if (s->kind == StmtKind::kCreateProcedure && static_cast<CreateProcedureStatement*>(s)->body) {
            auto* cp = static_cast<CreateProcedureStatement*>(s);
            size_t off = cp->body_offset;
            while (off < spans[i].second &&
                   (sql[off] == ' ' || sql[off] == '\n' || sql[off] == '\t' || sql[off] == '\r')) {
                ++off;
            }
            cp->body->text = std::string(sql.substr(off, spans[i].second - off));
        }
    }
    return result;
}

ParsedExpression ParseExpression(std::string_view text) {
    ParseResult r = Parse("SELECT " + std::string(text));
    if (r.statements.size() != 1 || r.statements[0]->kind != StmtKind::kSelect) {
        ThrowSqlError(ErrorCode::kSyntaxError, "not a single expression: " + std::string(text));
    }
    auto* sel = static_cast<SelectStatement*>(r.statements[0])->select;
    if (sel->items.size() != 1 || sel->next || !sel->from.empty() || sel->where) {
        ThrowSqlError(ErrorCode::kSyntaxError, "not a single expression: " + std::string(text));
    }
    ParsedExpression out;
    out.expr = sel->items[0].expr;
    out.arena = std::move(r.arena);
    return out;
}

}  // namespace surge::sql

#pragma once
// The grammar proper (included by expression.cpp only). Productions, lowest precedence first:
//
//   program    = sep* (item (sep+ | end))* end
//   item       = 'fn' NAME '(' [param (',' param)*] ')' ('=' expr | '{' sep* (stmt (sep+ | &'}'))*
//   '}')
//              | 'const' NAME '=' expr
//   param      = NAME ['[' expr (',' expr)* ']']
//   stmt       = 'let' NAME ['[' range (',' range)* ']'] '=' expr | 'return' expr
//   range      = NAME 'in' expr '..' expr
//   expr       = or ;  or = and ('or' and)* ;  and = not ('and' not)* ;  not = 'not' not | cmp
//   cmp        = add (cmpop add)* ;  add = mul (('+'|'-') mul)* ;  mul = unary (('*'|'/'|'%')
//   unary)* unary      = ('-'|'+') unary | pow ;  pow = postfix ['^' unary]      (so -x^2 = -(x^2))
//   postfix    = primary ('[' expr (',' expr)* ']')*
//   primary    = NUMBER | '(' expr ')' | '[' expr (',' expr)* ']' | 'if' expr 'then' expr 'else'
//   expr
//              | NAME '(' range (',' range)* ':' expr ')'      (recognised by `NAME ( NAME in`)
//              | NAME '(' [expr (',' expr)*] ')' | NAME
//
// `sep` is a newline or ';'; the facade has already blanked comments and newlines inside brackets.
// Binary levels and postfix indexing are custom parsers (chain, postfix) that loop instead of
// recursing and only build a Binary/Indexed node when an operator is present. Recursion through
// expr, unary, not and the exponent goes through deep(), which bounds the nesting.

#include "compiler/source.hpp"
#include "grammar/ast.hpp"
#include "grammar/ast_adapted.hpp"
#include "grammar/config.hpp"
#include "grammar/error_handler.hpp"
#include "grammar/expression.hpp"

#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gradc::parser {

// ---------------------------------------------------------------------------------------------
// Lexical helpers and custom parsers

inline bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
inline bool is_name_char(char c) {
    return is_name_start(c) || is_digit(c);
}

inline bool is_keyword(std::string_view word) {
    static constexpr std::string_view keywords[] = {"fn",   "let", "return", "const", "if", "then",
                                                    "else", "in",  "and",    "or",    "not"};
    for (std::string_view k : keywords)
        if (word == k) return true;
    return false;
}

template <typename Context> const ParseState& state_of(const Context& context) {
    return x3::get<state_tag>(context);
}

template <typename Context> std::size_t offset_at(const Context& context, const char* at) {
    return static_cast<std::size_t>(at - state_of(context).begin);
}

// Scans an identifier at `first` (no skipping); returns its end, or `first` if there is none.
inline const char* scan_name(const char* first, const char* last) {
    if (first == last || !is_name_start(*first)) return first;
    const char* it = first + 1;
    while (it != last && is_name_char(*it))
        ++it;
    return it;
}

// Makes `expr` hold a default Node and returns it, so that a parser can fill it in place (this
// keeps large temporaries out of the stack frames that are live while the parser recurses).
template <typename Node> Node& emplace(ast::Expr& expr) {
    if constexpr (std::is_same_v<Node, ast::Number> || std::is_same_v<Node, ast::Identifier>) {
        expr = Node();
        return boost::get<Node>(expr);
    } else {
        expr = x3::forward_ast<Node>();
        return boost::get<x3::forward_ast<Node>>(expr).get();
    }
}

// A keyword, respecting identifier boundaries: `in` does not match the start of `input`.
// With `Synthesize`, its attribute is the keyword's text (for `and`, `or`, `not`).
template <bool Synthesize> struct keyword_parser : x3::parser<keyword_parser<Synthesize>> {
    using attribute_type = std::conditional_t<Synthesize, std::string, x3::unused_type>;
    static bool const has_attribute = Synthesize;
    std::string_view word;

    constexpr explicit keyword_parser(const char* w) : word(w) {}

    template <typename Iterator, typename Context, typename RContext, typename Attribute>
    bool parse(Iterator& first, const Iterator& last, const Context& context, RContext&,
               Attribute& attr) const {
        x3::skip_over(first, last, context);
        const char* end = scan_name(first, last);
        if (std::string_view(first, static_cast<std::size_t>(end - first)) != word) return false;
        first = end;
        if constexpr (Synthesize) x3::traits::move_to(std::string(word), attr);
        return true;
    }
};
inline keyword_parser<false> kw(const char* word) {
    return keyword_parser<false>(word);
}
inline keyword_parser<true> kw_op(const char* word) {
    return keyword_parser<true>(word);
}

// One of a fixed list of operator spellings (longest listed first); attribute: the spelling.
struct operator_parser : x3::parser<operator_parser> {
    using attribute_type = std::string;
    static bool const has_attribute = true;
    std::vector<std::string_view> spellings;

    explicit operator_parser(std::vector<std::string_view> s) : spellings(std::move(s)) {}

    template <typename Iterator, typename Context, typename RContext, typename Attribute>
    bool parse(Iterator& first, const Iterator& last, const Context& context, RContext&,
               Attribute& attr) const {
        x3::skip_over(first, last, context);
        const std::string_view rest(first, static_cast<std::size_t>(last - first));
        for (std::string_view op : spellings) {
            if (!rest.empty() && rest[0] == op[0] && rest.substr(0, op.size()) == op) {
                first += op.size();
                x3::traits::move_to(std::string(op), attr);
                return true;
            }
        }
        return false;
    }
};

// Identifiers. `expression`: a name used in an expression (fails on keywords: the primary parser
// has already explained those); `binding`: a name
// being defined (a keyword is a hard error); `reduction`: sum/prod/max/min before `(i in`.
enum class NameKind { expression, binding, reduction };

template <NameKind Kind> struct name_parser : x3::parser<name_parser<Kind>> {
    using attribute_type = std::string;
    static bool const has_attribute = true;

    template <typename Iterator, typename Context, typename RContext, typename Attribute>
    bool parse(Iterator& first, const Iterator& last, const Context& context, RContext&,
               Attribute& attr) const {
        x3::skip_over(first, last, context);
        const char* end = scan_name(first, last);
        if (end == first) return false;
        const std::string_view name(first, static_cast<std::size_t>(end - first));
        if constexpr (Kind == NameKind::expression) {
            if (is_keyword(name)) return false;
        } else if constexpr (Kind == NameKind::binding) {
            if (is_keyword(name))
                throw CompileError(offset_at(context, first),
                                   "'" + std::string(name) +
                                       "' is a keyword and cannot be used as a name");
        } else if constexpr (Kind == NameKind::reduction) {
            if (name != "sum" && name != "prod" && name != "max" && name != "min")
                throw CompileError(offset_at(context, first),
                                   "'" + std::string(name) +
                                       "' cannot take ranges: only sum, prod, max and min can");
        }
        first = end;
        x3::traits::move_to(std::string(name), attr);
        return true;
    }
};

// Numbers: digits ['.' digits] [exponent] | '.' digits [exponent], kept as written. `1.` is not a
// number, so that `0..N` reads as 0 .. N.
struct number_parser : x3::parser<number_parser> {
    using attribute_type = std::string;
    static bool const has_attribute = true;

    static const char* digits(const char* it, const char* last) {
        while (it != last && is_digit(*it))
            ++it;
        return it;
    }

    template <typename Iterator, typename Context, typename RContext, typename Attribute>
    bool parse(Iterator& first, const Iterator& last, const Context& context, RContext&,
               Attribute& attr) const {
        x3::skip_over(first, last, context);
        const char* it = digits(first, last);
        bool whole = it != first;
        if (it != last && *it == '.' && it + 1 != last && is_digit(it[1]))
            it = digits(it + 1, last);
        else if (!whole)
            return false;
        if (it != last && (*it == 'e' || *it == 'E')) {
            const char* exp = it + 1;
            if (exp != last && (*exp == '+' || *exp == '-')) ++exp;
            const char* exp_end = digits(exp, last);
            if (exp_end != exp) it = exp_end;
        }
        x3::traits::move_to(std::string(first, it), attr);
        first = it;
        return true;
    }
};

// must(p, message): like `> p`, but the expectation failure carries our own complete message.
template <typename Subject>
struct must_directive : x3::unary_parser<Subject, must_directive<Subject>> {
    using base_type = x3::unary_parser<Subject, must_directive<Subject>>;
    static bool const is_pass_through_unary = true;
    const char* message;

    constexpr must_directive(const Subject& subject, const char* m)
        : base_type(subject), message(m) {}

    template <typename Iterator, typename Context, typename RContext, typename Attribute>
    bool parse(Iterator& first, const Iterator& last, const Context& context, RContext& rcontext,
               Attribute& attr) const {
        if (!this->subject.parse(first, last, context, rcontext, attr))
            throw x3::expectation_failure<Iterator>(first, message);
        return true;
    }
};

template <typename Parser> auto must(const Parser& parser, const char* message) {
    using subject_type = typename x3::extension::as_parser<Parser>::value_type;
    return must_directive<subject_type>(x3::as_parser(parser), message);
}

// deep(p): p, counted as one level of expression nesting; past max_nesting_depth a CompileError.
template <typename Subject>
struct deep_directive : x3::unary_parser<Subject, deep_directive<Subject>> {
    using base_type = x3::unary_parser<Subject, deep_directive<Subject>>;
    static bool const is_pass_through_unary = true;

    constexpr explicit deep_directive(const Subject& subject) : base_type(subject) {}

    template <typename Iterator, typename Context, typename RContext, typename Attribute>
    bool parse(Iterator& first, const Iterator& last, const Context& context, RContext& rcontext,
               Attribute& attr) const {
        ParseState& state = x3::get<state_tag>(context);
        if (state.depth >= max_nesting_depth) {
            Iterator at = first;
            x3::skip_over(at, last, context);
            throw CompileError(offset_at(context, at), "expression nested too deeply (more than " +
                                                           std::to_string(max_nesting_depth) +
                                                           " levels)");
        }
        struct Level {
            int& depth;
            explicit Level(int& d) : depth(d) { ++depth; }
            ~Level() { --depth; }
        } level(state.depth);
        return this->subject.parse(first, last, context, rcontext, attr);
    }
};

template <typename Parser> auto deep(const Parser& parser) {
    using subject_type = typename x3::extension::as_parser<Parser>::value_type;
    return deep_directive<subject_type>(x3::as_parser(parser));
}

// chain(first, op, rest): first (op rest)*, as one Binary node when an operator is present.
template <typename First, typename Op, typename Rest>
struct chain_parser : x3::parser<chain_parser<First, Op, Rest>> {
    using attribute_type = ast::Expr;
    static bool const has_attribute = true;
    First first_operand;
    Op op;
    Rest rest_operand;

    chain_parser(const First& f, const Op& o, const Rest& r)
        : first_operand(f), op(o), rest_operand(r) {}

    // The operand is parsed straight into `attr` and the loop lives in a separate function, so the
    // frame that stays on the stack while an operand recurses is as small as possible.
    template <typename Iterator, typename Context, typename RContext>
    bool parse(Iterator& first, const Iterator& last, const Context& context, RContext& rcontext,
               ast::Expr& attr) const {
        if (!first_operand.parse(first, last, context, rcontext, attr)) return false;
        return parse_rest(first, last, context, rcontext, attr);
    }

    template <typename Iterator, typename Context, typename RContext>
    BOOST_NOINLINE bool parse_rest(Iterator& first, const Iterator& last, const Context& context,
                                   RContext& rcontext, ast::Expr& attr) const {
        x3::skip_over(first, last, context);
        Iterator at = first;
        std::string spelling;
        if (!op.parse(first, last, context, rcontext, spelling)) return true;
        std::size_t offset = ast::offset_of(attr);
        ast::Expr lhs = std::move(attr);
        ast::Binary& binary = emplace<ast::Binary>(attr);
        binary.offset = offset;
        binary.first = std::move(lhs);
        do {
            ast::Operation& operation = binary.rest.emplace_back();
            operation.op = std::move(spelling);
            operation.offset = offset_at(context, at);
            if (!rest_operand.parse(first, last, context, rcontext, operation.operand))
                throw x3::expectation_failure<Iterator>(first, "expected an expression");
            x3::skip_over(first, last, context);
            at = first;
            spelling.clear();
        } while (op.parse(first, last, context, rcontext, spelling));
        return true;
    }
};

template <typename First, typename Op, typename Rest>
auto chain(const First& first, const Op& op, const Rest& rest) {
    using F = typename x3::extension::as_parser<First>::value_type;
    using O = typename x3::extension::as_parser<Op>::value_type;
    using R = typename x3::extension::as_parser<Rest>::value_type;
    return chain_parser<F, O, R>(x3::as_parser(first), x3::as_parser(op), x3::as_parser(rest));
}

// postfix(primary, index): primary ('[' index (',' index)* ']')*, nesting Indexed nodes.
template <typename Primary, typename Index>
struct postfix_parser : x3::parser<postfix_parser<Primary, Index>> {
    using attribute_type = ast::Expr;
    static bool const has_attribute = true;
    Primary primary;
    Index index;

    postfix_parser(const Primary& p, const Index& i) : primary(p), index(i) {}

    template <typename Iterator, typename Context, typename RContext>
    bool parse(Iterator& first, const Iterator& last, const Context& context, RContext& rcontext,
               ast::Expr& attr) const {
        if (!primary.parse(first, last, context, rcontext, attr)) return false;
        for (;;) {
            x3::skip_over(first, last, context);
            if (first == last || *first != '[') break;
            ++first;
            ast::Expr base = std::move(attr);
            ast::Indexed& indexed = emplace<ast::Indexed>(attr);
            indexed.offset = ast::offset_of(base);
            indexed.base = std::move(base);
            for (;;) {
                if (!index.parse(first, last, context, rcontext, indexed.indices.emplace_back()))
                    throw x3::expectation_failure<Iterator>(first, "expected an expression");
                x3::skip_over(first, last, context);
                if (first != last && *first == ',') {
                    ++first;
                    continue;
                }
                if (first != last && *first == ']') {
                    ++first;
                    break;
                }
                throw x3::expectation_failure<Iterator>(first, "expected ']' to close '['");
            }
        }
        return true;
    }
};

template <typename Primary, typename Index> auto postfix(const Primary& p, const Index& i) {
    using P = typename x3::extension::as_parser<Primary>::value_type;
    using I = typename x3::extension::as_parser<Index>::value_type;
    return postfix_parser<P, I>(x3::as_parser(p), x3::as_parser(i));
}

// prefix(op, self, next): op self (as a Unary node) | next. Used for unary signs and `not`.
template <typename Op, typename Self, typename Next>
struct prefix_parser : x3::parser<prefix_parser<Op, Self, Next>> {
    using attribute_type = ast::Expr;
    static bool const has_attribute = true;
    Op op;
    Self self;
    Next next;

    prefix_parser(const Op& o, const Self& s, const Next& n) : op(o), self(s), next(n) {}

    template <typename Iterator, typename Context, typename RContext>
    bool parse(Iterator& first, const Iterator& last, const Context& context, RContext& rcontext,
               ast::Expr& attr) const {
        if (parse_prefixed(first, last, context, rcontext, attr)) return true;
        return next.parse(first, last, context, rcontext, attr);
    }

    template <typename Iterator, typename Context, typename RContext>
    BOOST_NOINLINE bool parse_prefixed(Iterator& first, const Iterator& last,
                                       const Context& context, RContext& rcontext,
                                       ast::Expr& attr) const {
        x3::skip_over(first, last, context);
        Iterator at = first;
        std::string spelling;
        if (!op.parse(first, last, context, rcontext, spelling)) return false;
        ast::Unary& unary = emplace<ast::Unary>(attr);
        unary.offset = offset_at(context, at);
        unary.op = std::move(spelling);
        spelling = std::string();
        if (!self.parse(first, last, context, rcontext, unary.operand))
            throw x3::expectation_failure<Iterator>(first, "expected an expression");
        return true;
    }
};

template <typename Op, typename Self, typename Next>
auto prefix(const Op& op, const Self& self, const Next& next) {
    using O = typename x3::extension::as_parser<Op>::value_type;
    using S = typename x3::extension::as_parser<Self>::value_type;
    using N = typename x3::extension::as_parser<Next>::value_type;
    return prefix_parser<O, S, N>(x3::as_parser(op), x3::as_parser(self), x3::as_parser(next));
}

// Every rule whose node derives from ast::Located records where it starts (after skipping).
struct annotate_position {
    template <typename Iterator, typename Node, typename Context>
    void on_success(const Iterator& first, const Iterator&, Node& node,
                    const Context& context) const {
        if constexpr (std::is_base_of_v<ast::Located, Node>)
            node.offset = offset_at(context, first);
    }
};

// ---------------------------------------------------------------------------------------------
// Rules

struct expression_class;
struct not_class;
struct unary_class;
struct number_class {
    template <typename Iterator, typename Context>
    void on_success(const Iterator& first, const Iterator&, ast::Number& node,
                    const Context& context) const {
        node.offset = offset_at(context, first);
        // from_chars rounds as strtod does, without the locale and strlen; out of range it leaves
        // the value alone, and strtod gives the infinity (or zero) that lowering expects.
        const char* begin = node.text.data();
        if (std::from_chars(begin, begin + node.text.size(), node.value).ec != std::errc())
            node.value = std::strtod(begin, nullptr);
    }
};
struct identifier_class : annotate_position {};
struct paren_class;
struct list_class : annotate_position {};
struct conditional_class : annotate_position {};
struct call_class : annotate_position {};
struct reduction_class : annotate_position {};
struct range_class : annotate_position {};
struct param_class : annotate_position {};
struct let_class : annotate_position {};
struct return_class : annotate_position {};
struct statement_class;
struct expr_body_class;
struct block_body_class;
struct function_class : annotate_position {};
struct const_class : annotate_position {};
struct item_class;
struct item_list_class;
struct elements_class;
struct program_class : error_handler {};

// Only the levels that recurse are rules; the binary levels between them are inlined into them,
// which keeps the stack used per nesting level small.
const x3::rule<expression_class, ast::Expr> expression = "expression";
const x3::rule<not_class, ast::Expr> not_expr = "expression";
const x3::rule<unary_class, ast::Expr> unary_expr = "expression";
const x3::rule<number_class, ast::Number> number = "number";
const x3::rule<identifier_class, ast::Identifier> identifier = "name";
const x3::rule<paren_class, ast::Expr> paren = "parenthesised expression";
const x3::rule<list_class, ast::ListLiteral> list_literal = "list";
const x3::rule<conditional_class, ast::Conditional> conditional = "conditional";
const x3::rule<call_class, ast::Call> call = "call";
const x3::rule<reduction_class, ast::Reduction> reduction = "reduction";
const x3::rule<range_class, ast::Range> range = "range";
const x3::rule<param_class, ast::Param> param = "parameter";
const x3::rule<let_class, ast::Let> let_statement = "let";
const x3::rule<return_class, ast::Return> return_statement = "return";
const x3::rule<statement_class, ast::Statement> statement = "statement";
const x3::rule<expr_body_class, ast::List<ast::Statement>> expr_body = "function body";
const x3::rule<block_body_class, ast::List<ast::Statement>> block_body = "function body";
const x3::rule<function_class, ast::Function> function = "function";
const x3::rule<const_class, ast::Const> const_item = "const";
const x3::rule<item_class, ast::Item> item = "item";
const x3::rule<item_list_class, ast::List<ast::Item>> item_list = "program";
const x3::rule<elements_class, ast::List<ast::Expr>> elements = "list elements";
const program_type program_rule = "program";

// primary: dispatches on the first character to exactly one rule, so that no alternative is tried
// (and no node allocated) in vain. Throws when nothing there can start an expression.
struct primary_parser : x3::parser<primary_parser> {
    using attribute_type = ast::Expr;
    static bool const has_attribute = true;

    template <typename Node, typename Rule, typename Iterator, typename Context, typename RContext>
    static bool parse_as(const Rule& rule, Iterator& first, const Iterator& last,
                         const Context& context, RContext& rcontext, ast::Expr& attr) {
        return rule.parse(first, last, context, rcontext, emplace<Node>(attr));
    }

    enum class Kind { number, paren, list, conditional, reduction, call, identifier };

    // Looks at the text ahead without consuming it; throws when no expression can start here.
    template <typename Context>
    static BOOST_NOINLINE Kind classify(const char* first, const char* last,
                                        const Context& context) {
        char c = first != last ? *first : '\0';
        if (is_digit(c) || (c == '.' && last - first > 1 && is_digit(first[1])))
            return Kind::number;
        if (c == '(') return Kind::paren;
        if (c == '[') return Kind::list;
        const char* end = scan_name(first, last);
        if (end == first)
            throw x3::expectation_failure<const char*>(first, "expected an expression");
        const std::string_view word(first, static_cast<std::size_t>(end - first));
        if (word == "if") return Kind::conditional;
        if (word == "not")
            throw CompileError(offset_at(context, first),
                               "'not' binds more loosely than arithmetic and comparisons here: "
                               "write (not ...)");
        if (is_keyword(word))
            throw CompileError(offset_at(context, first),
                               "'" + std::string(word) +
                                   "' is a keyword and cannot be used as a name");
        const char* it = end;
        while (it != last && is_blank(*it))
            ++it;
        if (it == last || *it != '(') return Kind::identifier;
        // `NAME ( NAME in` starts a reduction, anything else after `NAME (` a call.
        const char* variable = it + 1;
        while (variable != last && is_blank(*variable))
            ++variable;
        const char* in = scan_name(variable, last);
        if (in == variable) return Kind::call;
        while (in != last && is_blank(*in))
            ++in;
        bool is_in = scan_name(in, last) - in == 2 && in[0] == 'i' && in[1] == 'n';
        return is_in ? Kind::reduction : Kind::call;
    }

    template <typename Iterator, typename Context, typename RContext>
    bool parse(Iterator& first, const Iterator& last, const Context& context, RContext& rcontext,
               ast::Expr& attr) const {
        x3::skip_over(first, last, context);
        switch (classify(first, last, context)) {
        case Kind::number:
            return parse_as<ast::Number>(number, first, last, context, rcontext, attr);
        case Kind::paren:
            return paren.parse(first, last, context, rcontext, attr);
        case Kind::list:
            return parse_as<ast::ListLiteral>(list_literal, first, last, context, rcontext, attr);
        case Kind::conditional:
            return parse_as<ast::Conditional>(conditional, first, last, context, rcontext, attr);
        case Kind::reduction:
            return parse_as<ast::Reduction>(reduction, first, last, context, rcontext, attr);
        case Kind::call:
            return parse_as<ast::Call>(call, first, last, context, rcontext, attr);
        case Kind::identifier:
            break;
        }
        return parse_as<ast::Identifier>(identifier, first, last, context, rcontext, attr);
    }
};

const name_parser<NameKind::expression> expr_name{};
const name_parser<NameKind::binding> binding_name{};
const name_parser<NameKind::reduction> reduction_name{};
const number_parser number_literal{};
const auto separator = x3::lit('\n') | x3::lit(';');

inline const operator_parser compare_op({"<=", ">=", "==", "!=", "<", ">"});
inline const operator_parser add_op({"+", "-"});
inline const operator_parser mul_op({"*", "/", "%"});
inline const operator_parser sign_op({"-", "+"});
inline const operator_parser power_op({"^"});

inline auto make_return = [](auto& context) {
    ast::Return result;
    result.value = std::move(x3::_attr(context));
    result.offset = ast::offset_of(result.value);
    ast::Statement statement;
    statement = std::move(result);
    x3::_val(context).push_back(std::move(statement));
};

const auto expression_def = deep(chain(chain(not_expr, kw_op("and"), not_expr), kw_op("or"),
                                       chain(not_expr, kw_op("and"), not_expr)));
const auto additive =
    chain(chain(unary_expr, mul_op, unary_expr), add_op, chain(unary_expr, mul_op, unary_expr));
const auto not_expr_def =
    prefix(kw_op("not"), deep(not_expr), chain(additive, compare_op, additive));
const auto unary_expr_def =
    prefix(sign_op, deep(unary_expr),
           chain(postfix(primary_parser{}, expression), power_op, deep(unary_expr)));
const auto number_def = number_literal;
const auto identifier_def = expr_name;
const auto paren_def = '(' >> expression >> must(')', "expected ')' to close '('");
const auto list_literal_def = elements;
const auto elements_def = '[' >> (expression % ',') >> must(']', "expected ']' to close '['");
const auto
    conditional_def = kw("if") >> expression >>
                      must(kw("then"), "expected 'then' after the condition of 'if'") >> expression
                      >>
                      must(kw("else"), "expected 'else': every 'if' needs an 'else'") >> expression;
const auto call_def = expr_name >> '(' >> -(!x3::lit(')') >> (expression % ',')) >>
                      must(')', "expected ',' or ')' in the argument list");
const auto reduction_def = reduction_name >> '(' >> (range % ',') >>
                           must(':', "expected ',' or ':' after the range") >> expression >>
                           must(')', "expected ')' to close the reduction");
const auto range_def = must(binding_name, "expected a range such as 'i in 0..N'") >>
                       must(kw("in"), "expected 'in' after the range variable") >> expression >>
                       must("..", "expected '..' between the bounds of the range") >> expression;

const auto param_def = must(binding_name, "expected a parameter name") >>
                       -('[' >> (expression % ',') >> must(']', "expected ']' to close '['"));
const auto let_statement_def = kw("let") >> must(binding_name, "expected a name after 'let'") >>
                               -('[' >> (range % ',') >> must(']', "expected ']' to close '['")) >>
                               must('=', "expected '=' after the name in 'let'") >> expression;
const auto return_statement_def = kw("return") >> expression;
const auto statement_def = let_statement | return_statement;

const auto expr_body_def = ('=' >> expression)[make_return];
const auto block_body_def = *x3::lit('\n') >> '{' >> *separator >>
                            *(statement >>
                              must(+separator | &x3::lit('}'), end_of_statement_message)) >>
                            must('}', end_of_block_message);
const auto function_def = kw("fn") >> must(binding_name, "expected a function name after 'fn'") >>
                          must('(', "expected '(' after the function name") >>
                          -(!x3::lit(')') >> (param % ',')) >>
                          must(')', "expected ',' or ')' in the parameter list") >>
                          must(expr_body | block_body,
                               "expected '=' or '{' after the parameter list");
const auto const_item_def = kw("const") >> must(binding_name, "expected a name after 'const'") >>
                            must('=', "expected '=' after the constant's name") >> expression;
const auto item_def = function | const_item;
const auto program_rule_def = item_list;
const auto item_list_def = *separator >>
                           *(item >> must(+separator | x3::eoi, end_of_statement_message)) >>
                           must(x3::eoi, item_message);

BOOST_SPIRIT_DEFINE(expression, not_expr, unary_expr, number, identifier, paren, list_literal,
                    conditional, call, reduction, range, param, let_statement, return_statement,
                    statement, expr_body, block_body, function, const_item, item, item_list,
                    elements, program_rule)

} // namespace gradc::parser

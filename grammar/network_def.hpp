#pragma once
// The rules of the `.net` grammar. `#` starts a comment. The skipper skips newlines, and a
// statement must end with a newline, `;` or the closing `}`; to keep that unambiguous a binary
// operator or the
// `(` of a call must stand on the same line as what precedes it (a line may end after an operator).
// Every AST node gets its byte offset from annotate_position, which needs the text's first
// character in the context under begin_tag.

#include "grammar/network.hpp"
#include "grammar/network_ast_adapted.hpp"

#include <boost/spirit/home/x3.hpp>

#include <type_traits>

namespace gradc::net_grammar {
namespace x3 = boost::spirit::x3;
namespace ast = net_ast;

struct begin_tag;

struct annotate_position {
    template <typename Iterator, typename Context, typename Node>
    void on_success(const Iterator& first, const Iterator&, Node& node, const Context& context) {
        if constexpr (std::is_base_of_v<ast::Located, Node>)
            node.offset = static_cast<std::size_t>(first - x3::get<begin_tag>(context));
    }
};

const auto comment = x3::lexeme['#' >> *(x3::char_ - x3::eol)];
const auto skipper = x3::space | comment;
// `text` on the current line, after blanks only.
inline auto same_line(const char* text) {
    return x3::no_skip[x3::omit[*x3::blank] >> x3::string(text)];
}

const auto word_end = !(x3::alnum | '_');
inline auto keyword(const char* word) {
    return x3::lexeme[x3::lit(word) >> word_end];
}
inline auto keyword_string(const char* word) {
    return x3::lexeme[x3::string(word) >> word_end];
}

// clang-format off
x3::rule<class identifier_class, std::string> const identifier = "a name";
x3::rule<class name_class, ast::Name> const name = "a name";
x3::rule<class number_class, ast::Number> const number = "a number";
x3::rule<class string_class, ast::String> const string_literal = "a string";
x3::rule<class expression_class, ast::Expr> const expression = "an expression";
x3::rule<class additive_class, ast::Binary> const additive = "an expression";
x3::rule<class multiplicative_class, ast::Binary> const multiplicative = "an expression";
x3::rule<class unary_class, ast::Expr> const unary = "an expression";
x3::rule<class negation_class, ast::Unary> const negation = "an expression";
x3::rule<class power_class, ast::Binary> const power = "an expression";
x3::rule<class primary_class, ast::Expr> const primary = "an expression";
x3::rule<class additive_op_class, ast::Operation> const additive_op = "an operator";
x3::rule<class multiplicative_op_class, ast::Operation> const multiplicative_op = "an operator";
x3::rule<class power_op_class, ast::Operation> const power_op = "an operator";
x3::rule<class call_class, ast::Call> const call = "a call";
x3::rule<class named_argument_class, ast::Argument> const named_argument = "an argument";
x3::rule<class positional_argument_class, ast::Argument> const positional_argument = "an argument";
x3::rule<class argument_class, ast::Argument> const argument = "an argument";
x3::rule<class list_class, ast::List> const list = "a list";
x3::rule<class dims_class, std::vector<ast::Expr>> const dims = "sizes";
x3::rule<class declaration_class, ast::Declaration> const declaration = "a declaration";
x3::rule<class binding_class, ast::Binding> const binding = "a binding";
x3::rule<class setting_class, ast::Setting> const setting = "a setting";
x3::rule<class stop_when_class, ast::StopWhen> const stop_when = "stop_when";
x3::rule<class statement_class, ast::Statement> const statement = "a statement";
x3::rule<class end_of_statement_class> const end_of_statement = "a new line or ';' after the statement";
x3::rule<class network_class, ast::Network> const network = "a network";

const auto identifier_def = x3::raw[x3::lexeme[
    (x3::alpha | '_') >> *(x3::alnum | '_') >> *('.' >> (x3::alpha | '_') >> *(x3::alnum | '_'))]];
const auto name_def = identifier;
const auto number_def = x3::raw[x3::lexeme[
    (+x3::digit >> -('.' >> *x3::digit) | '.' >> +x3::digit) >>
    -(x3::char_("eE") >> -x3::char_("+-") >> +x3::digit) >> word_end]];
const auto string_literal_def = x3::lexeme['"' > *(x3::char_ - '"' - x3::eol) > '"'];

const auto expression_def = additive;
const auto additive_op_def = (same_line("+") | same_line("-")) > multiplicative;
const auto additive_def = multiplicative >> *additive_op;
const auto multiplicative_op_def = (same_line("*") | same_line("/") | same_line("@")) > unary;
const auto multiplicative_def = unary >> *multiplicative_op;
const auto negation_def = (x3::string("-") | x3::string("+")) > unary;
const auto unary_def = negation | power;
const auto power_op_def = same_line("^") > unary; // right-associative, tighter than unary minus
const auto power_def = primary >> *power_op;
const auto primary_def = number | string_literal | list | call | name |
                         ('(' > expression > ')');

const auto named_argument_def = identifier >> '=' >> !x3::lit('=') > expression;
const auto positional_argument_def = x3::attr(std::string()) >> expression;
const auto argument_def = named_argument | positional_argument;
const auto call_def = identifier >> x3::omit[same_line("(")] > -(argument % ',') > ')';
const auto list_def = '[' > (expression % ',') > ']';
const auto dims_def = '[' > (expression % ',') > ']';

const auto declaration_def =
    (keyword_string("input") | keyword_string("target") | keyword_string("param")) > name >
    -dims > -(':' > expression) > -((-keyword("init") >> '=') > expression);
const auto binding_def = name >> '=' > expression;
const auto setting_def =
    (keyword_string("output") | keyword_string("loss") | keyword_string("regularize") |
     keyword_string("optimizer") | keyword_string("batch") | keyword_string("epochs") |
     keyword_string("seed") | keyword_string("train_data") | keyword_string("test_data")) >
    expression;
const auto stop_when_def = keyword("stop_when") > name > '<' > expression;
const auto statement_def = declaration | setting | stop_when | binding;
const auto end_of_statement_def =
    x3::no_skip[*x3::blank >> -comment >> (x3::eol | ';' | &x3::lit('}') | x3::eoi)] |
    &x3::lit('}');
const auto network_def =
    keyword("network") > name > '{' > *(statement > end_of_statement) > '}' > x3::eoi;
// clang-format on

BOOST_SPIRIT_DEFINE(identifier, name, number, string_literal, expression, additive, multiplicative,
                    unary, negation, power, primary, additive_op, multiplicative_op, power_op, call,
                    named_argument, positional_argument, argument, list, dims, declaration, binding,
                    setting, stop_when, statement, end_of_statement, network)

struct name_class : annotate_position {};
struct number_class : annotate_position {};
struct string_class : annotate_position {};
struct additive_class : annotate_position {};
struct multiplicative_class : annotate_position {};
struct negation_class : annotate_position {};
struct power_class : annotate_position {};
struct additive_op_class : annotate_position {};
struct multiplicative_op_class : annotate_position {};
struct power_op_class : annotate_position {};
struct call_class : annotate_position {};
struct named_argument_class : annotate_position {};
struct positional_argument_class : annotate_position {};
struct list_class : annotate_position {};
struct declaration_class : annotate_position {};
struct binding_class : annotate_position {};
struct setting_class : annotate_position {};
struct stop_when_class : annotate_position {};
struct network_class : annotate_position {};

} // namespace gradc::net_grammar

#include "grammar/parse.hpp"

#include "grammar/config.hpp"
#include "grammar/error_handler.hpp"
#include "grammar/expression.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <type_traits>

namespace gradc {
namespace parser {

std::string normalise(const std::string& text) {
    // How each character moves the bracket depth: looked up rather than branched on, since
    // brackets are frequent and irregular in a long expression.
    static const std::array<signed char, 256> nesting = [] {
        std::array<signed char, 256> n{};
        n['('] = n['['] = 1;
        n[')'] = n[']'] = -1;
        return n;
    }();
    std::string out = text;
    int depth = 0; // open ( and [ not yet closed; braces reset it so one typo does not spread
    for (std::size_t i = 0; i < out.size(); ++i) {
        char c = out[i];
        if (c == '#') {
            while (i < out.size() && out[i] != '\n')
                out[i++] = ' ';
            if (i == out.size()) break;
            c = '\n';
        }
        depth = std::max(0, depth + nesting[static_cast<unsigned char>(c)]);
        if (c == '{' || c == '}') {
            depth = 0;
        } else if (c == '\n' && depth > 0) {
            out[i] = ' ';
        }
    }
    return out;
}

namespace {

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Characters that can appear in a program outside comments.
bool is_valid_char(char c) {
    if (is_name_start(c) || is_digit(c)) return true;
    switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case ',':
    case ';':
    case ':':
    case '.':
    case '=':
    case '<':
    case '>':
    case '!':
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '^':
        return true;
    default:
        return false;
    }
}

bool is_keyword(const std::string& word) {
    static const char* const keywords[] = {"fn",   "let", "return", "const", "if", "then",
                                           "else", "in",  "and",    "or",    "not"};
    return std::any_of(std::begin(keywords), std::end(keywords),
                       [&](const char* k) { return word == k; });
}

// A short description of the token at `at`, for "unexpected ..." messages.
std::string describe_token(const char* at, const char* end) {
    if (at == end) return "end of file";
    if (*at == '\n') return "end of line";
    const char* it = at;
    if (is_name_start(*it)) {
        while (it != end && (is_name_start(*it) || is_digit(*it)))
            ++it;
        std::string word(at, it);
        return (is_keyword(word) ? "keyword '" : "name '") + word + "'";
    }
    if (is_digit(*it) || (*it == '.' && it + 1 != end && is_digit(it[1]))) {
        while (it != end && (is_digit(*it) || *it == '.'))
            ++it;
        return "number '" + std::string(at, it) + "'";
    }
    static const char* const pairs[] = {"<=", ">=", "==", "!=", ".."};
    for (const char* p : pairs)
        if (end - at >= 2 && at[0] == p[0] && at[1] == p[1]) return "'" + std::string(p) + "'";
    return "'" + std::string(1, *at) + "'";
}

} // namespace

void throw_syntax_error(const ParseState& state, const char* where, const std::string& message) {
    while (where != state.end && is_blank(*where))
        ++where;
    std::size_t offset = static_cast<std::size_t>(where - state.begin);
    if (where != state.end && !is_valid_char(*where)) {
        unsigned char byte = static_cast<unsigned char>(*where);
        char text[64];
        if (byte >= 32 && byte < 127)
            std::snprintf(text, sizeof text, "unexpected character '%c'", *where);
        else
            std::snprintf(text, sizeof text, "unexpected byte 0x%02x", byte);
        throw CompileError(offset, text);
    }
    const bool at_end = where == state.end;
    const char c = at_end ? '\0' : *where;
    const bool closing = c == ')' || c == ']' || c == '}';
    const std::string found = describe_token(where, state.end);
    if (message == end_of_statement_message || message == end_of_block_message ||
        message == item_message) {
        if (closing) {
            const char* open = c == ')' ? "(" : c == ']' ? "[" : "{";
            throw CompileError(offset, "unexpected '" + std::string(1, c) +
                                           "' without a matching '" + open + "'");
        }
        if (message == item_message) {
            if (found == "keyword 'let'" || found == "keyword 'return'")
                throw CompileError(offset,
                                   "unexpected " + found +
                                       ": statements belong inside a function body { ... }");
            throw CompileError(offset,
                               "expected 'fn' or 'const' to start a definition, found " + found);
        }
        if (at_end) throw CompileError(offset, "expected '}' to close the function body");
        if (message == end_of_block_message)
            throw CompileError(offset, "expected 'let', 'return' or '}'");
        throw CompileError(offset, "unexpected " + found +
                                       ": expected a newline or ';' to end the statement");
    }
    throw CompileError(offset, message);
}

} // namespace parser

ast::Program parse_program(const SourceFile& source) {
    namespace x3 = boost::spirit::x3;
    const std::string text = parser::normalise(source.text());
    parser::ParseState state{text.data(), text.data() + text.size()};
    const parser::blank_skipper skipper{};
    const auto skipper_context = x3::make_context<x3::skipper_tag>(skipper);
    const auto context = x3::make_context<parser::state_tag>(state, skipper_context);
    static_assert(std::is_same_v<std::decay_t<decltype(context)>, parser::context_type>,
                  "the grammar is instantiated for parser::context_type only");

    ast::Program program;
    const char* first = state.begin;
    if (!parser::program().parse(first, state.end, context, x3::unused, program) ||
        first != state.end)
        parser::throw_syntax_error(state, first, parser::item_message);
    return program;
}

} // namespace gradc

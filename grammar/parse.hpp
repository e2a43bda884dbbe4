#pragma once
// The front end's facade: `.expr` text to AST. Assumes nothing about the text (binary garbage,
// huge files and deep nesting are all reported as errors, never crashes); guarantees that every
// node's offset is the byte offset of its first character, and that any syntax error is thrown as
// a CompileError(offset, message) with a human-readable message.

#include "compiler/source.hpp"
#include "grammar/ast.hpp"

#include <string>

namespace gradc {

ast::Program parse_program(const SourceFile& source);

namespace parser {
// Same-length copy of `text` with comments and newlines inside ( ) and [ ] replaced by spaces, so
// that byte offsets are preserved and only statement-ending newlines remain.
std::string normalise(const std::string& text);
} // namespace parser

} // namespace gradc

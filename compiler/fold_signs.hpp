#pragma once
// Sign folding: decides where a kernel's negations go.
//
// Every value has two forms, itself and its negation, and most ops make either form from forms
// of their operands without an extra statement: x * -y is -(x * y), a sum of terms of opposite
// signs is a difference either way round (b - a or a - b), -(c + t) is (-c) - t, a constant is
// its own negation, c ? -x : -y is -(c ? x : y), |-x| is |x|, and a negation is its operand's
// other form. A value that any other op (exp, a comparison, ...), a store or the return reads
// needs its own form, and a Neg is built only where a form cannot be made otherwise. A forward
// pass estimates what each value's negative form costs over its positive one; a backward pass from
// the roots chooses, for every form needed, the cheapest way to make it given the forms already
// needed, and counts the statements and Negs; a forward pass builds the result. In the logistic
// gradient, `(-a) * x`, `-(y * y)` and `-(t * x)` come down to the one Neg inside exp; in TD1's,
// `-(y - o)` becomes `o - y`.
//
// Assumes: operands precede their users in the graph (Graph guarantees it).
// Guarantees: the kernel computes the same values exactly (negation is exact, and x * -y ==
// -(x * y), x - y == x + -y in IEEE arithmetic), but for the sign of a zero sum: `-(a - b)` built
// as `b - a` is +0 rather than -0 where a == b, as with simplify.hpp's `x + 0 -> x`. The live graph
// never ends up with more Neg nodes or more statements: the pass builds only a result with fewer
// of one and no more of the other, and checks what it built. Linear in the size of the graph. A
// kernel without a live Neg costs one pass; a large graph whose folding would rebuild more than an
// eighth of it (every user of a changed node changes: with negations all over a long expression,
// that is most of the graph), or with fewer than one Neg in 64 statements, is left as it is.

#include "compiler/kernels.hpp"

namespace gradc {

void fold_signs(Kernel& kernel);

} // namespace gradc

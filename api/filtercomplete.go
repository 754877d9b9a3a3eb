package api

import (
	"strings"
)

// Completion of the filter language: what may come at the cursor, from
// the tokens before it. Values come from the database (completeValues).

// What the text before the cursor expects next.
const (
	expectDimension = "dimension"
	expectOperator  = "operator"
	expectValue     = "value"
	expectList      = "list" // after a value inside IN (…): "," or ")"
	expectConnector = "connector"
)

// Kinds of completion option.
const (
	optDimension = "dimension"
	optOperator  = "operator"
	optValue     = "value"
	optKeyword   = "keyword"
)

// completionContext is what the text before the cursor expects next.
type completionContext struct {
	expect  string
	dim     filterDim // the dimension an operator or value is for
	known   bool      // dim is a dimension of the language
	partial token     // the token being typed (empty after a space)
	open    int       // parentheses left open
	inList  bool      // inside IN (…)
}

// completeContext reads the text before the cursor.
func completeContext(before string) (completionContext, error) {
	toks, err := lex(before, true)
	if err != nil {
		return completionContext{}, err
	}
	ctx := completionContext{expect: expectDimension, partial: token{kind: tokWord, start: len(before), end: len(before)}}
	if n := len(toks); n > 0 {
		last := toks[n-1]
		if last.end == len(before) && (last.kind == tokWord || last.unterminated) {
			ctx.partial, toks = last, toks[:n-1]
		}
	}
	for i := 0; i < len(toks); i++ {
		ctx.step(toks[i])
	}
	return ctx, nil
}

// step moves the context past one complete token.
func (ctx *completionContext) step(t token) {
	isOp := func(op string) bool { return t.kind == tokOp && t.text == op }
	switch ctx.expect {
	case expectDimension:
		switch {
		case t.keyword("NOT"):
		case isOp("("):
			ctx.open++
		default:
			ctx.dim, ctx.known = lookupDim(t.text)
			ctx.expect = expectOperator
		}
	case expectOperator:
		switch {
		case t.keyword("NOT"):
		case t.keyword("IN"):
			ctx.inList = true
		case isOp("(") && ctx.inList:
			ctx.expect = expectValue
		default:
			ctx.expect = expectValue
		}
	case expectValue:
		ctx.expect = expectConnector
		if ctx.inList {
			ctx.expect = expectList
		}
	case expectList:
		if isOp(",") {
			ctx.expect = expectValue
		} else if isOp(")") {
			ctx.inList, ctx.expect = false, expectConnector
		}
	case expectConnector:
		switch {
		case isOp(")"):
			ctx.open--
		case t.keyword("AND") || t.keyword("OR"):
			ctx.expect, ctx.dim, ctx.known = expectDimension, filterDim{}, false
		}
	}
}

// operatorsFor lists the operators of a dimension's kind.
func operatorsFor(d filterDim) []string {
	ops := []string{"=", "!=", "IN", "NOT IN"}
	switch d.kind {
	case kindString:
		ops = append(ops, "LIKE", "NOT LIKE")
	case kindPort, kindUint32:
		ops = append(ops, "<", "<=", ">", ">=")
	}
	return ops
}

// quoteFilterValue writes a value as the language reads it: quoted
// unless it is a plain word or number.
func quoteFilterValue(v string) string {
	plain := v != ""
	for i := 0; i < len(v); i++ {
		if !isWordByte(v[i]) || v[i] == '%' {
			plain = false
		}
	}
	for _, kw := range []string{"AND", "OR", "NOT", "IN", "LIKE"} {
		if strings.EqualFold(v, kw) {
			plain = false
		}
	}
	if plain {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

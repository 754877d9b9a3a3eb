package chdb

import (
	"strings"
)

// A tiny ClickHouse SQL scanner: just enough to find the top-level keywords
// of a statement (skipping strings, quoted identifiers, comments and
// brackets). The engine parses the SQL; this only decides how to hand
// it over.

type token struct {
	word       string // upper-cased keyword or identifier; "" for other tokens
	start, end int
	depth      int // bracket depth at the token
}

// scanner yields the tokens of text one by one.
type scanner struct {
	text  []byte
	pos   int
	depth int
}

func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isWordChar(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' }

// next returns the next token, or ok=false at the end of the text (or of a
// statement, at a top-level ';').
func (s *scanner) next() (t token, ok bool) {
	text := s.text
	for s.pos < len(text) {
		c := text[s.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.pos++
		case c == '-' && s.pos+1 < len(text) && text[s.pos+1] == '-',
			c == '#' && s.pos+1 < len(text) && (text[s.pos+1] == ' ' || text[s.pos+1] == '!'):
			for s.pos < len(text) && text[s.pos] != '\n' {
				s.pos++
			}
		case c == '/' && s.pos+1 < len(text) && text[s.pos+1] == '*':
			// ClickHouse allows nested block comments.
			nest := 0
			for s.pos+1 < len(text) {
				if text[s.pos] == '/' && text[s.pos+1] == '*' {
					nest++
					s.pos += 2
				} else if text[s.pos] == '*' && text[s.pos+1] == '/' {
					nest--
					s.pos += 2
					if nest == 0 {
						break
					}
				} else {
					s.pos++
				}
			}
			if nest > 0 {
				s.pos = len(text)
			}
		case c == '\'' || c == '"' || c == '`':
			start := s.pos
			s.pos++
			for s.pos < len(text) {
				if text[s.pos] == '\\' {
					s.pos += 2
					continue
				}
				if text[s.pos] == c {
					if s.pos+1 < len(text) && text[s.pos+1] == c { // doubled quote
						s.pos += 2
						continue
					}
					s.pos++
					break
				}
				s.pos++
			}
			if s.pos > len(text) {
				s.pos = len(text)
			}
			return token{start: start, end: s.pos, depth: s.depth}, true
		case isWordStart(c):
			start := s.pos
			for s.pos < len(text) && isWordChar(text[s.pos]) {
				s.pos++
			}
			return token{word: strings.ToUpper(string(text[start:s.pos])), start: start, end: s.pos, depth: s.depth}, true
		case c == '(' || c == '[' || c == '{':
			s.pos++
			t := token{start: s.pos - 1, end: s.pos, depth: s.depth}
			s.depth++
			return t, true
		case c == ')' || c == ']' || c == '}':
			s.pos++
			if s.depth > 0 {
				s.depth--
			}
			return token{start: s.pos - 1, end: s.pos, depth: s.depth}, true
		case c == ';' && s.depth == 0:
			return token{}, false
		default:
			s.pos++
			return token{start: s.pos - 1, end: s.pos, depth: s.depth}, true
		}
	}
	return token{}, false
}

// firstKeyword is the upper-cased first word of the statement.
func firstKeyword(text []byte) string {
	s := scanner{text: text}
	t, ok := s.next()
	if !ok {
		return ""
	}
	return t.word
}

// multiStatement reports whether text holds more than one statement (a
// trailing ';' is fine), which the ClickHouse HTTP interface refuses.
func multiStatement(text []byte) bool {
	s := scanner{text: text}
	for {
		if _, ok := s.next(); !ok {
			break
		}
	}
	if s.pos >= len(text) {
		return false
	}
	rest := scanner{text: text[s.pos+1:]}
	_, ok := rest.next()
	return ok
}

// formatInsert is an INSERT whose data follows "FORMAT <name>" inline.
type formatInsert struct {
	head      string // the statement before its SETTINGS clause or FORMAT
	settings  string // "SETTINGS ..." up to FORMAT, or ""
	format    string
	dataStart int // offset of the inline data in the text
}

// parseFormatInsert recognises "INSERT INTO ... [SETTINGS ...] FORMAT name"
// followed by data. ok is false for any other statement, including
// INSERT ... VALUES, INSERT ... SELECT and INSERT ... FROM INFILE.
func parseFormatInsert(text []byte) (fi formatInsert, ok bool) {
	s := scanner{text: text}
	t, more := s.next()
	if !more || t.word != "INSERT" {
		return fi, false
	}
	settingsAt := -1
	for {
		t, more = s.next()
		if !more {
			return fi, false
		}
		if t.depth != 0 || t.word == "" {
			continue
		}
		switch t.word {
		case "SELECT", "WITH", "VALUES", "INFILE":
			return fi, false
		case "SETTINGS":
			if settingsAt < 0 {
				settingsAt = t.start
			}
		case "FORMAT":
			name, more := s.next()
			if !more || name.word == "" {
				return fi, false
			}
			// As ClickHouse's ParserInsertQuery: the data starts after
			// blanks and at most one line break.
			p := name.end
			for p < len(text) && (text[p] == ' ' || text[p] == '\t' || text[p] == '\f') {
				p++
			}
			if p < len(text) && text[p] == '\r' {
				p++
			}
			if p < len(text) && text[p] == '\n' {
				p++
			}
			fi.format = string(text[name.start:name.end])
			fi.dataStart = p
			if settingsAt >= 0 {
				fi.head = string(text[:settingsAt])
				fi.settings = string(text[settingsAt:t.start])
			} else {
				fi.head = string(text[:t.start])
			}
			return fi, true
		}
	}
}

// infileQuery is the INSERT rewritten to read its data from path.
func (fi formatInsert) infileQuery(path string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(fi.head, " \t\r\n"))
	b.WriteString(" FROM INFILE ")
	b.WriteString(quoteString(path))
	if fi.settings != "" {
		b.WriteByte(' ')
		b.WriteString(strings.TrimSpace(fi.settings))
	}
	b.WriteString(" FORMAT ")
	b.WriteString(fi.format)
	return b.String()
}

// quoteString makes a ClickHouse string literal.
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// quoteIdent makes a ClickHouse quoted identifier.
func quoteIdent(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "`", "\\`")
	return "`" + r.Replace(s) + "`"
}

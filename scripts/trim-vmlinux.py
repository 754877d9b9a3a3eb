#!/usr/bin/env python3
"""Trim a bpftool vmlinux.h dump to the types a BPF program uses, so that
the committed header is ~80 KB instead of the whole kernel's 2.7 MB.

Usage: trim-vmlinux.py FULL.h OUT.h SOURCE.c [SOURCE.h ...]
         [--typedefs-from HEADER] [--full struct:NAME ...]

Keeps every declaration that defines a name the sources mention, plus what
those need: full definitions for types used by value, forward declarations
for structs and unions used only through pointers. --full forces a full
definition (for types read through pointers with CO-RE).
"""
import re
import sys

def split_decls(lines):
    head, decls, tail = [], [], []
    i = 0
    # header: up to and including the pragma block
    while i < len(lines) and not lines[i].startswith(('typedef', 'struct', 'union', 'enum')):
        head.append(lines[i]); i += 1
    cur = []
    while i < len(lines):
        l = lines[i]
        if not cur and (l.strip() == '' or l.startswith('#')):
            if l.startswith('#'):
                tail = lines[i:]
                break
            i += 1
            continue
        cur.append(l)
        if not l.startswith(('\t', ' ')) and l.rstrip().endswith(';'):
            decls.append(cur); cur = []
        i += 1
    return head, decls, tail

TAG = re.compile(r'\b(struct|union|enum)\s+(\w+)')
IDENT = re.compile(r'\b[A-Za-z_]\w*\b')

def analyse(decl):
    text = '\n'.join(decl)
    first = decl[0]
    defines, kind = set(), None
    m = re.match(r'(struct|union|enum)\s+(\w+)\s*(\{|;)', first)
    if m:
        kind = m.group(1)
        defines.add(m.group(1) + ' ' + m.group(2))
        forward = m.group(3) == ';'
    else:
        forward = False
    if first.startswith('typedef'):
        # the typedef name is the last identifier before ';' or inside (*name)
        fm = re.search(r'\(\s*\*\s*(?:const\s+)?(\w+)\s*\)\s*[(\[]', text) or re.match(r'typedef [^(]*?(\w+)\(', text)
        name = fm.group(1) if fm else re.findall(r'(\w+)\s*(?:\[[^\]]*\])*\s*;\s*$', text)[-1]
        defines.add(name)
    if first.startswith('enum'):
        for c in re.findall(r'^\t(\w+)\s*=', text, re.M):
            defines.add(c)
    # references
    body = text
    if first.startswith(('struct', 'union', 'enum')) and '{' in first:
        body = text[text.index('{') + 1:]
    full, ptr = set(), set()
    for m in re.finditer(r'\b(struct|union|enum)\s+(\w+)(\s*\**)', body):
        key = m.group(1) + ' ' + m.group(2)
        if key in defines:
            continue
        if '*' in m.group(3) and m.group(1) != 'enum':
            ptr.add(key)
        else:
            full.add(key)
    # typedef names used
    stripped = TAG.sub(' ', body)
    idents = set(IDENT.findall(stripped))
    return defines, forward, full, ptr, idents

def main():
    args = sys.argv[1:]
    forced, typedef_sources = set(), []
    if '--typedefs-from' in args:
        k = args.index('--typedefs-from')
        typedef_sources = [args[k + 1]]
        args = args[:k] + args[k + 2:]
    if '--full' in args:
        k = args.index('--full')
        forced = {a.replace(':', ' ') for a in args[k + 1:]}; args = args[:k]
    full_h, out_h, sources = args[0], args[1], args[2:]
    lines = open(full_h).read().split('\n')
    head, decls, tail = split_decls(lines)
    info = [analyse(d) for d in decls]
    by_name = {}
    for idx, (defines, forward, _, _, _) in enumerate(info):
        if forward:
            continue
        for n in defines:
            by_name.setdefault(n, idx)
    typedefs = {n for n in by_name if ' ' not in n}
    used = set()
    for s in sources:
        src = open(s).read()
        used |= set(IDENT.findall(src))
        used |= {m.group(1) + ' ' + m.group(2) for m in TAG.finditer(src)}
    for s in typedef_sources:
        # Only typedef names: the helper prototypes name many structs by
        # pointer, which need no definition.
        used |= set(IDENT.findall(TAG.sub(' ', open(s).read()))) & typedefs
    want_full, want_fwd = set(), set()
    todo = [n for n in used | forced if n in by_name]
    seen = set()
    while todo:
        n = todo.pop()
        idx = by_name[n]
        if idx in seen:
            continue
        seen.add(idx)
        want_full.add(idx)
        _, _, full, ptr, idents = info[idx]
        for r in full:
            if r in by_name:
                todo.append(r)
        for r in ptr:
            if r in forced:
                todo.append(r)
            else:
                want_fwd.add(r)
        for r in idents & typedefs:
            todo.append(r)
    # Forward-declare every struct and union kept or pointed to, so that
    # none is first seen inside a function-pointer parameter list.
    tags = set(want_fwd)
    for idx in want_full:
        tags |= {n for n in info[idx][0] if n.startswith(('struct ', 'union '))}
        tags |= info[idx][3]
    out = list(head)
    fwd = sorted(tags)
    out += [f + ';' for f in fwd] + ['']
    for idx, d in enumerate(decls):
        if idx in want_full:
            out += d + ['']
    out += tail
    open(out_h, 'w').write('\n'.join(out))

main()

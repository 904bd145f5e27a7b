#!/usr/bin/env python3
"""Differential test data for eps_translator::c14n: random documents + oracle outputs.

usage: c14n_differential.py OUTDIR [--count N] [--seed S] [--oracle PATH]

Generates N random XML documents (seeded, so the same arguments give the same files) into
OUTDIR/doc-NNNN.xml and canonicalises each with the shared oracle
(`shared/tools/c14n_oracle.py`: lxml, or the system libxml2 where lxml is known to be
wrong), imported in-process for speed. Writes OUTDIR/cases.jsonl, one case per line:

  {"doc": "doc-0007.xml", "mode": "exc", "prefixes": ["#default", "a"] | null,
   "subtree": "//*[@Id='i3']" | null, "ns": {"q": "urn:x"},
   "expected": "<canonical text>" | null, "error": "oracle message" | null}

Each document gets all four modes (c14n10, c14n10-with-comments, exc, exc-with-comments)
for the whole document and for one subtree apex, exclusive cases sometimes with an
InclusiveNamespaces PrefixList. Documents exercise namespaces declared, redeclared,
undeclared (xmlns="") and unused; prefixed and xml:* attributes; comments and PIs inside
and around the document element; CDATA; character and entity references; an internal DTD
subset with ATTLIST defaults and non-CDATA types; literal CR/LF/tab in text and attribute
values; and non-ASCII text. A few declare a relative namespace URI, which both sides must
refuse. The Rust side is tests/c14n_differential.rs.
"""
import argparse
import importlib.util
import json
import os
import random
import sys

MODES = ['c14n10', 'c14n10-with-comments', 'exc', 'exc-with-comments']
PREFIXES = ['a', 'b', 'ns1', 'x', 'ds']
# Absolute URIs as written in the document. libxml2 refuses to canonicalise namespace
# names it cannot parse as URIs, and writes namespace URIs without escaping '&' (C14N 1.0
# section 2.3 says to escape them like attribute values, which we do), so the pool avoids
# both: a divergence by design, covered by the unit tests instead.
URIS = ['http://a.example/ns', 'urn:b:ns', 'http://c.example/', 'urn:x',
        'http://www.w3.org/2000/09/xmldsig#', 'http://e.example/?q=1;r=2#f',
        'urn:t%C3%A9st:x', 'HTTP://Upper.Example/P']
NAMES = ['r', 'e', 'item', 'f', 'g', 'Signature', 'SignedInfo', 'x', 'doc', 'n\u00e9']
ATTR_NAMES = ['id', 'b', 'a', 'z', 'attr', 'B', 'aa', '\u00e9t']
WORDS = ['hello', 'world', 'x', ' ', '  ', '\u00e9', '\u4e2d\u6587', '\U0001F600', '\u00a0',
         '&amp;', '&lt;', '>', '&gt;', '"', "'", '&quot;', '&apos;', '&#13;', '&#xD;',
         '&#10;', '&#9;', '&#x20AC;', '&#128512;', '\n', '\r\n', '\t', '\r', '=', '/']
ATTR_WORDS = ['v', 'val ue', ' ', '\u00e9', '\U0001F600', '&amp;', '&lt;', '>', '&quot;',
              '&apos;', '\t', '\n', '\r\n', '&#9;', '&#10;', '&#13;', '&#x20;', '  ', '&gt;']
REL_URI = 'relative/ns'


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.ids = 0
        self.entities = []        # names of text-only entities usable anywhere
        self.markup_entities = []  # names of entities holding elements
        self.elements = []        # (path_positions, name, uri, id or None) per element

    def pick(self, seq):
        return self.rng.choice(seq)

    def chance(self, p):
        return self.rng.random() < p

    def text(self, n=None):
        parts = [self.pick(WORDS) for _ in range(n or self.rng.randint(1, 4))]
        if self.entities and self.chance(0.2):
            parts.append('&%s;' % self.pick(self.entities))
        return ''.join(parts)

    def attr_value(self, quote):
        parts = [self.pick(ATTR_WORDS) for _ in range(self.rng.randint(0, 4))]
        if self.entities and self.chance(0.1):
            parts.append('&%s;' % self.pick(self.entities))
        value = ''.join(parts)
        return value.replace(quote, '&quot;' if quote == '"' else '&apos;')

    def comment(self):
        body = self.pick(['', ' c ', 'a<b&c', '\r\nline\r\n', '\u00e9 \U0001F600', ' - x '])
        return '<!--%s-->' % body

    def pi(self):
        target = self.pick(['p', 'pi-target', 'x1'])
        data = self.pick(['', ' ', 'data', ' d  a\tta  ', 'a\r\nb', '<&>', '\u00e9'])
        return '<?%s%s%s?>' % (target, ' ' if data and not data.startswith(' ') else '', data)

    def misc(self):
        return self.pick([self.comment, self.pi, lambda: self.pick(['\n', ' ', '\r\n'])])()

    def ns_decls(self, scope):
        decls = {}
        for _ in range(self.pick([0, 0, 0, 1, 1, 2, 3])):
            if self.chance(0.3):
                options = URIS + ([''] if None in scope or self.chance(0.3) else [])
                decls[None] = self.pick(options)
            else:
                prefix = self.pick(PREFIXES)
                decls[prefix] = scope[prefix] if prefix in scope and self.chance(0.3) else self.pick(URIS)
        return decls

    def attributes(self, scope, decls, name):
        quote = self.pick(['"', "'"])
        out = []
        for prefix, uri in sorted(decls.items(), key=lambda kv: kv[0] or ''):
            out.append('%s="%s"' % ('xmlns' if prefix is None else 'xmlns:' + prefix, uri))
        seen = set()
        for _ in range(self.rng.randint(0, 3)):
            local = self.pick(ATTR_NAMES)
            prefixes = [p for p in scope if p is not None]
            prefix = self.pick(prefixes) if prefixes and self.chance(0.4) else None
            key = (scope[prefix] if prefix else None, local)
            if key in seen:
                continue
            seen.add(key)
            qname = '%s:%s' % (prefix, local) if prefix else local
            out.append('%s=%s%s%s' % (qname, quote, self.attr_value(quote), quote))
        if self.chance(0.2):
            out.append('xml:lang="%s"' % self.pick(['en', 'fr', '']))
        if self.chance(0.1):
            out.append('xml:space="%s"' % self.pick(['preserve', 'default']))
        if name == 'f' and self.chance(0.4):
            out.append('en="%s"' % self.pick([' p ', 'q', '  p']))
        if name in ('item', 'f') and self.chance(0.4):
            out.append('tok="%s"' % self.pick(['  a   b ', 'c', ' d&#9;e  f ']))
        ident = None
        if self.chance(0.3):
            self.ids += 1
            ident = 'i%d' % self.ids
            out.append('Id="%s"' % ident)
        spaces = [' ', '  ', '\n  ', '\t', '\r\n ']
        return ''.join(self.pick(spaces) + a for a in out), ident

    def element(self, depth, scope, path):
        decls = self.ns_decls(scope)
        scope = {**scope, **decls}
        if scope.get(None) == '':
            del scope[None]
        bound = [p for p in scope if p is not None]
        prefix = self.pick(bound) if bound and self.chance(0.4) else None
        local = self.pick(NAMES)
        qname = '%s:%s' % (prefix, local) if prefix else local
        uri = scope[prefix] if prefix else scope.get(None)
        attrs, ident = self.attributes(scope, decls, local)
        self.elements.append((path, local, uri, ident))
        tail = self.pick(['', ' ', '\n'])
        if depth > 4 or self.chance(0.25):
            return '<%s%s%s/>' % (qname, attrs, tail)
        children, position = [], 0
        for _ in range(self.rng.randint(0, 4)):
            kind = self.rng.random()
            if kind < 0.4:
                position += 1
                children.append(self.element(depth + 1, scope, path + [position]))
            elif kind < 0.65:
                children.append(self.text())
            elif kind < 0.75:
                children.append(self.comment())
            elif kind < 0.82:
                children.append(self.pi())
            elif kind < 0.9:
                children.append('<![CDATA[%s]]>' % self.pick(['', ' <&> ', 'a]b', '\r\n', ']] >']))
            elif self.markup_entities:
                position += 1  # the entity's element counts as a child
                children.append('&%s;' % self.pick(self.markup_entities))
            else:
                children.append(self.text(1))
        return '<%s%s%s>%s</%s>' % (qname, attrs, tail, ''.join(children), qname)

    def doctype(self, root):
        decls = []
        if self.chance(0.7):
            self.entities.append('ent')
            decls.append('<!ENTITY ent "%s">' % self.pick(['text', 'a &amp; b', '\u00e9t\u00e9', 'x&#x20AC;y',
                                                          'a&#9;b', 'l1\nl2\t', ' &#10; ']))
        if self.chance(0.5):
            self.markup_entities.append('mk')
            # libxml2 resolves the namespaces of an entity's elements in the context of the
            # entity's first use only; declaring them inside keeps the content independent.
            decls.append('<!ENTITY mk "<f xmlns=\'urn:f\' xmlns:q=\'urn:q\' q:a=\'1\' b=\'2\'>in<!--c-->side</f>">')
        if self.chance(0.7):
            decls.append('<!ATTLIST item def CDATA "dv" tok NMTOKENS #IMPLIED>')
        if self.chance(0.4):
            decls.append('<!ATTLIST e fixed CDATA #FIXED "  f&#9;x ">')
        if self.chance(0.4):
            decls.append('<!ATTLIST f en (p|q) " q " tok NMTOKEN #IMPLIED>')
        if self.chance(0.3):
            decls.append('<!ATTLIST g xml:lang CDATA "de">')
        if self.chance(0.3):
            decls.append('<!-- dtd comment --><?dtd-pi x?>')
        return '<!DOCTYPE %s [%s]>' % (root, '\n'.join(decls))

    def document(self, relative):
        decl = '<?xml version="1.0" encoding="UTF-8"?>\n' if self.chance(0.5) else ''
        dtd = self.doctype('r') if self.chance(0.3) else ''
        prolog = ''.join(self.misc() for _ in range(self.rng.randint(0, 2)))
        root = self.element(0, {}, [])
        if relative:
            end = next(i for i, c in enumerate(root) if c in ' \t\r\n/>')
            root = root[:end] + ' xmlns:rel="%s"' % REL_URI + root[end:]
        epilog = ''.join(self.misc() for _ in range(self.rng.randint(0, 2)))
        return decl + dtd + prolog + root + epilog

    def selector(self):
        path, local, uri, ident = self.pick(self.elements)
        choice = self.rng.random()
        if ident and choice < 0.5:
            return "//*[@Id='%s']" % ident, {}
        if choice < 0.7:
            return '/*' + ''.join('/*[%d]' % p for p in path), {}
        if choice < 0.85:
            return "//*[local-name(.)='%s']" % local, {}
        if uri:
            return '//q:%s' % local, {'q': unescape(uri)}
        return '//%s' % local, {}


def unescape(written):
    for ref, char in (('&lt;', '<'), ('&gt;', '>'), ('&quot;', '"'), ('&apos;', "'"), ('&amp;', '&')):
        written = written.replace(ref, char)
    return written


def load_oracle(path):
    spec = importlib.util.spec_from_file_location('c14n_oracle', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_oracle(oracle, mode, path, prefixes, subtree, ns):
    try:
        out = oracle.canonicalize(mode, path, prefixes, subtree, None, ns)
        return out.decode('utf-8'), None
    except Exception as e:  # refusals: relative namespace URIs, no match ...
        return None, ' '.join(str(e).split()) or type(e).__name__


def libxml2_available(oracle):
    try:
        oracle._libxml2()
        return True
    except OSError:
        return False


def quiet_stderr():
    """Sends file descriptor 2 to /dev/null: the system libxml2 prints each refusal there."""
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('outdir')
    ap.add_argument('--count', type=int, default=3000)
    ap.add_argument('--seed', type=int, default=20260521)
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.environ.get('EPS_SHARED_DIR') or os.path.join(here, '..', '..', 'shared')
    ap.add_argument('--oracle', default=os.path.join(shared, 'tools', 'c14n_oracle.py'))
    a = ap.parse_args()
    oracle = load_oracle(a.oracle)
    have_libxml2 = libxml2_available(oracle)
    if not have_libxml2:
        print('note: the system libxml2 (libxml2.so.2) is not loadable; cases the oracle can only '
              'answer with it (inclusive subtrees, #default in a PrefixList) are skipped')
    if not os.environ.get('C14N_DIFF_VERBOSE'):
        quiet_stderr()
    skipped = 0
    rng = random.Random(a.seed)
    os.makedirs(a.outdir, exist_ok=True)
    with open(os.path.join(a.outdir, 'cases.jsonl'), 'w', encoding='utf-8') as cases:
        for n in range(a.count):
            gen = Gen(rng)
            relative = rng.random() < 0.02
            text = gen.document(relative)
            name = 'doc-%04d.xml' % n
            path = os.path.join(a.outdir, name)
            with open(path, 'wb') as f:
                f.write(text.encode('utf-8'))
            subtree, ns = gen.selector()
            selections = [(None, {})] + ([] if relative else [(subtree, ns)])
            for mode in MODES:
                for sel, sel_ns in selections:
                    prefixes = None
                    if mode.startswith('exc') and rng.random() < 0.5:
                        prefixes = rng.sample(['#default'] + PREFIXES + ['unbound'], rng.randint(1, 3))
                    if not have_libxml2 and oracle.pick_engine(mode, prefixes, sel) != 'lxml':
                        skipped += 1
                        continue
                    expected, error = run_oracle(oracle, mode, path, prefixes, sel, sel_ns)
                    cases.write(json.dumps({'doc': name, 'mode': mode, 'prefixes': prefixes,
                                            'subtree': sel, 'ns': sel_ns,
                                            'expected': expected, 'error': error}) + '\n')
    if skipped:
        print('note: %d cases skipped for want of the system libxml2' % skipped)
    return 0


if __name__ == '__main__':
    sys.exit(main())

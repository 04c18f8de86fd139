// Package gotables writes Go values as Go source: the composite literals
// of constants that the generators of catalog and exposure compile their
// data into, so that the toolchain lays the data out as initialised memory
// and nothing is parsed or built at run time.
package gotables

import (
	"bytes"
	"fmt"
	"go/format"
	"reflect"
	"strconv"
	"strings"
)

// Write writes v as a Go expression in package pkg (whose own types are
// written unqualified): structs keyed with zero fields left out, slices
// typed, strings quoted. A *bool is written as &PREFIXTrue or &PREFIXFalse,
// variables the generated file declares. Other pointers, maps, funcs and
// floats panic: the compiled data has none.
func Write(b *bytes.Buffer, v any, pkg, prefix string) {
	(&encoder{b: b, pkg: pkg, prefix: prefix}).value(reflect.ValueOf(v))
}

type encoder struct {
	b           *bytes.Buffer
	pkg, prefix string
}

// value writes v as a Go expression.
func (e *encoder) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		e.b.WriteString(strconv.Quote(v.String()))
	case reflect.Int, reflect.Int32, reflect.Int64:
		e.b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint8, reflect.Uint32:
		e.b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Bool:
		e.b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Pointer:
		switch {
		case v.IsNil():
			e.b.WriteString("nil")
		case v.Elem().Kind() == reflect.Bool && v.Elem().Bool():
			e.b.WriteString("&" + e.prefix + "True")
		case v.Elem().Kind() == reflect.Bool:
			e.b.WriteString("&" + e.prefix + "False")
		default:
			panic("gotables: cannot write a pointer to " + v.Type().String())
		}
	case reflect.Slice:
		if v.IsNil() {
			e.b.WriteString("nil")
			return
		}
		e.b.WriteString(e.typeName(v.Type()) + "{")
		for i := range v.Len() {
			if i > 0 {
				e.b.WriteString(", ")
			}
			if x := v.Index(i); x.Kind() == reflect.Struct || x.Kind() == reflect.Slice {
				e.elem(x)
			} else {
				e.value(x)
			}
		}
		e.b.WriteString("}")
	case reflect.Struct:
		e.b.WriteString(e.typeName(v.Type()))
		e.elem(v)
	default:
		panic("gotables: cannot write a " + v.Type().String())
	}
}

// elem writes a struct or slice without its type, as an element of a
// typed composite literal.
func (e *encoder) elem(v reflect.Value) {
	if v.Kind() == reflect.Slice {
		if v.IsNil() {
			e.b.WriteString("nil")
			return
		}
		var s bytes.Buffer
		(&encoder{b: &s, pkg: e.pkg, prefix: e.prefix}).value(v)
		e.b.WriteString(strings.TrimPrefix(s.String(), e.typeName(v.Type())))
		return
	}
	e.b.WriteString("{")
	first := true
	for i := range v.NumField() {
		f := v.Field(i)
		if f.IsZero() {
			continue
		}
		if !first {
			e.b.WriteString(", ")
		}
		first = false
		e.b.WriteString(v.Type().Field(i).Name + ": ")
		e.value(f)
	}
	e.b.WriteString("}")
}

// typeName is t as the target package spells it.
func (e *encoder) typeName(t reflect.Type) string {
	return strings.ReplaceAll(t.String(), e.pkg+".", "")
}

// Table writes rows as two package-level arrays: `var ROWS = [N]T{...}`,
// one literal per row, and `var PTRS = [N]*T{&ROWS[0], ...}`, for a package
// whose values are reached through pointers.
func Table[T any](b *bytes.Buffer, ptrs, rows string, values []*T, pkg, prefix string) {
	typ := strings.TrimPrefix(reflect.TypeFor[T]().String(), pkg+".")
	fmt.Fprintf(b, "var %s = [%d]*%s{", ptrs, len(values), typ)
	for i := range values {
		if i%8 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "&%s[%d], ", rows, i)
	}
	fmt.Fprintf(b, "\n}\n\nvar %s = [%d]%s{\n", rows, len(values), typ)
	for _, v := range values {
		Write(b, *v, pkg, prefix)
		b.WriteString(",\n")
	}
	b.WriteString("}\n")
}

// Format is go/format.Source, with the error naming what was written.
func Format(b *bytes.Buffer, what string) ([]byte, error) {
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	return src, nil
}

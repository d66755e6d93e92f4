package kernel

import (
	"errors"
	"fmt"
)

// ErrorKind says what sort of refusal a domain error is; the HTTP layer maps
// it to a status (invalid 400, not found 404, forbidden 403, rejected 422,
// conflict 409).
type ErrorKind string

const (
	// KindInvalid: the input is malformed or incomplete; Field names it.
	KindInvalid ErrorKind = "invalid"
	// KindNotFound: the thing the command is about does not exist.
	KindNotFound ErrorKind = "not-found"
	// KindForbidden: the actor may not do this.
	KindForbidden ErrorKind = "forbidden"
	// KindRejected: well-formed, but an enforced rule or the current state refuses it.
	KindRejected ErrorKind = "rejected"
	// KindConflict: it already exists or was already done.
	KindConflict ErrorKind = "conflict"
)

// Error is a domain refusal. Code is stable kebab-case English
// ("major-spending-needs-resolution") that clients may switch on; Msg is a
// Chinese sentence a clerk understands; Field, when set, names the input
// field (JSON name) at fault.
//
// Errors compare by Code: errors.Is(err, funds.ErrMajorNeedsResolution) is
// true for any Error with that code, whatever its Msg or Field. Use errors.As
// with a kernel.Error target to read the kind and field.
type Error struct {
	Kind  ErrorKind
	Code  string
	Msg   string
	Field string
}

func (e Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s): %s", e.Kind, e.Code, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Kind, e.Code, e.Msg)
}

// Is reports whether target is a domain error with the same Code.
func (e Error) Is(target error) bool {
	switch t := target.(type) {
	case Error:
		return t.Code == e.Code
	case *Error:
		return t != nil && t.Code == e.Code
	}
	return false
}

// WithField returns a copy naming the input field at fault.
func (e Error) WithField(field string) Error { e.Field = field; return e }

// WithMsg returns a copy with a more specific sentence for the clerk.
func (e Error) WithMsg(format string, args ...any) Error {
	e.Msg = fmt.Sprintf(format, args...)
	return e
}

// Invalid builds an error for malformed input; field is the JSON name.
func Invalid(code, field, msg string) Error {
	return Error{Kind: KindInvalid, Code: code, Msg: msg, Field: field}
}

// NotFound builds an error for a missing subject.
func NotFound(code, msg string) Error { return Error{Kind: KindNotFound, Code: code, Msg: msg} }

// Forbidden builds an error for an actor without the right.
func Forbidden(code, msg string) Error { return Error{Kind: KindForbidden, Code: code, Msg: msg} }

// Rejected builds an error for an enforced rule or a state that refuses the command.
func Rejected(code, msg string) Error { return Error{Kind: KindRejected, Code: code, Msg: msg} }

// Conflict builds an error for something that already exists or already happened.
func Conflict(code, msg string) Error { return Error{Kind: KindConflict, Code: code, Msg: msg} }

// KindOf returns the kind of the domain error in err's chain, if any.
func KindOf(err error) (ErrorKind, bool) {
	var e Error
	if errors.As(err, &e) {
		return e.Kind, true
	}
	var p *Error
	if errors.As(err, &p) && p != nil {
		return p.Kind, true
	}
	return "", false
}

// Required returns an Invalid error when s is empty.
func Required(s, field, what string) error {
	if s == "" {
		return Invalid("required", field, what+"不能为空")
	}
	return nil
}

// Errors of objections (异议), to a notice or to a candidate list alike.
var (
	ErrObjectionNotFound = NotFound("objection-not-found", "没有这条异议")
	ErrObjectionAnswered = Conflict("objection-already-answered", "这条异议已答复")
)

// CheckAnswer checks an answer to objection id, given the objections raised (answered or not): the
// objection exists, is not answered yet, and the answer says something.
func CheckAnswer(objections map[string]bool, id, answer string) error {
	answered, ok := objections[id]
	if !ok {
		return ErrObjectionNotFound
	}
	if answered {
		return ErrObjectionAnswered
	}
	return Required(answer, "answer", "答复内容")
}

package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// ProblemContentType is the media type of every error response (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is an error response: RFC 9457 problem details with the ledger's extensions. Clients switch on
// Code (stable kebab-case English); Detail is a sentence for the clerk, in Chinese where it comes from a
// domain rule.
type Problem struct {
	// Type identifies the problem: "urn:ledger:problem:<code>".
	Type string `json:"type" doc:"URI identifying the problem type: urn:ledger:problem:<code>"`
	// Title is the HTTP status text.
	Title string `json:"title" doc:"Short summary of the problem type (the HTTP status text)"`
	// Status repeats the HTTP status code.
	Status int `json:"status" doc:"HTTP status code"`
	// Detail explains this occurrence.
	Detail string `json:"detail,omitempty" doc:"Explanation of this occurrence, for a person"`
	// Instance is the path of the request that failed.
	Instance string `json:"instance,omitempty" doc:"The request path this occurrence is about"`
	// Code is the stable, machine-readable reason (a domain rule's code, or one of the API's own).
	Code string `json:"code" doc:"Stable machine-readable reason, e.g. major-spending-needs-resolution"`
	// Field names the input at fault: a JSON path into the body ("amount", "items[2].name") or a header
	// name ("Idempotency-Key").
	Field string `json:"field,omitempty" doc:"The input at fault: a JSON path into the body, or a header name"`
	// RequestID identifies a 500 in the server's log.
	RequestID string `json:"request_id,omitempty" doc:"For server errors: the id under which the server logged the cause"`
	// Errors lists every input error when there are several; the first is also in Field and Detail.
	Errors []FieldError `json:"errors,omitempty" doc:"All input errors, when there are several"`

	headers http.Header
}

// FieldError is one input error of a 400.
type FieldError struct {
	Field   string `json:"field" doc:"JSON path into the body, or a header name"`
	Code    string `json:"code" doc:"unknown-field, missing-field, wrong-type, invalid-value or malformed-json"`
	Message string `json:"message" doc:"What is wrong"`
}

// Codes of the problems the API raises itself (domain refusals carry the rule's own code).
const (
	CodeMalformedJSON    = "malformed-json"
	CodeUnknownField     = "unknown-field"
	CodeMissingField     = "missing-field"
	CodeWrongType        = "wrong-type"
	CodeInvalidValue     = "invalid-value"
	CodeBodyRequired     = "body-required"
	CodeBodyTooLarge     = "body-too-large"
	CodeUnauthenticated  = "unauthenticated"
	CodeRoleNotAllowed   = "role-not-allowed"
	CodeOutOfScope       = "out-of-scope"
	CodeRetry            = "concurrent-change-retry"
	CodeNotFound         = "not-found"
	CodeMethodNotAllowed = "method-not-allowed"
	CodeInternal         = "internal-error"
	CodeUnavailable      = "unavailable" // a dependency (the database, the event store) cannot answer now: retry later
	CodeTooManyStreams   = "too-many-streams"
)

// WriteProblem writes p as application/problem+json with the headers it carries (Retry-After,
// WWW-Authenticate), for the routes served by plain handlers; Instance defaults to the request's path.
func WriteProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Instance == "" {
		p.Instance = r.URL.EscapedPath()
	}
	for k, vs := range p.headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", ProblemContentType)
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func newProblem(status int, code, detail string) *Problem {
	return NewProblem(status, code, detail, "")
}

// NewProblem is the problem of one kind (code) with its status and detail; field names the input it is
// about ("" for none). Every API of the ledger builds its problems with it.
func NewProblem(status int, code, detail, field string) *Problem {
	return &Problem{Type: "urn:ledger:problem:" + code, Title: http.StatusText(status), Status: status, Code: code,
		Detail: detail, Field: field}
}

// Error is the detail, so a Problem can travel as an error.
func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Detail) }

// GetStatus is the HTTP status (huma.StatusError).
func (p *Problem) GetStatus() int { return p.Status }

// GetHeaders are the headers sent with the problem (huma.HeadersError), e.g. WWW-Authenticate on a 401.
func (p *Problem) GetHeaders() http.Header { return p.headers }

// WithHeader sets a header of the answer (Retry-After on a 429) and returns p.
func (p *Problem) WithHeader(key, value string) *Problem {
	if p.headers == nil {
		p.headers = http.Header{}
	}
	p.headers.Set(key, value)
	return p
}

// ContentType makes huma send application/problem+json (huma.ContentTypeFilter).
func (p *Problem) ContentType(string) string { return ProblemContentType }

// badInput is a 400 for input errors, the first of which names the field.
func badInput(errs []FieldError) *Problem {
	// An error repeats at most a little of the input, however large or deep the body was.
	if len(errs) > 20 {
		errs = errs[:20]
	}
	for i := range errs {
		errs[i].Field, errs[i].Message = bound(errs[i].Field, maxFieldPath), bound(errs[i].Message, maxMessage)
	}
	first := errs[0]
	if first.Code == CodePersonalData { // well-formed input a rule refuses
		p := newProblem(http.StatusUnprocessableEntity, first.Code, "字段 "+first.Field+": "+first.Message)
		p.Field = first.Field
		return p
	}
	p := newProblem(http.StatusBadRequest, first.Code, inputDetail(first))
	p.Field = first.Field
	if len(errs) > 1 {
		p.Errors = errs
	}
	return p
}

func inputDetail(e FieldError) string {
	where := "请求内容"
	if e.Field != "" {
		where = "字段 " + e.Field
	}
	switch e.Code {
	case CodeMalformedJSON:
		return "请求内容不是合法的 JSON(" + where + "附近): " + e.Message
	case CodeUnknownField:
		return "请求中有未知字段 " + e.Field + ",请检查拼写"
	case CodeMissingField:
		return "缺少必填字段 " + e.Field
	case CodeWrongType:
		return where + " 的类型不对: " + e.Message
	}
	return where + " 的值不合要求: " + e.Message
}

// unauthenticated is a 401 with the challenge of RFC 6750: invalid says a token was presented but is
// not (or no longer) valid.
func unauthenticated(detail string, invalid bool) *Problem {
	p := newProblem(http.StatusUnauthorized, CodeUnauthenticated, detail)
	challenge := `Bearer realm="ledger"`
	if invalid {
		challenge += `, error="invalid_token"`
	}
	p.headers = http.Header{"Www-Authenticate": {challenge}}
	return p
}

// problemFor maps an error of a command to its problem. Domain refusals and the store's conflict are the
// caller's to act on and carry their reason; anything else is a 500 whose cause goes to the log under a
// request id, never into the body.
func problemFor(ctx context.Context, log *slog.Logger, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var fb *commands.Forbidden
	if errors.As(err, &fb) {
		if !fb.Actor.Covers(fb.Path) {
			return newProblem(http.StatusForbidden, CodeOutOfScope,
				fmt.Sprintf("此令牌的权限范围是 %s,不包括 %s", fb.Actor.Scope, fb.Path))
		}
		return newProblem(http.StatusForbidden, CodeRoleNotAllowed,
			fmt.Sprintf("角色 %s 无权执行此命令", fb.Actor.Role))
	}
	if errors.Is(err, eventlog.ErrConflict) {
		return newProblem(http.StatusConflict, CodeRetry,
			"该记录刚被他人同时修改,本次未写入任何内容;请用同一个 Idempotency-Key 重试(retry)。")
	}
	if ke, ok := domainError(err); ok {
		status := 0
		switch ke.Kind {
		case kernel.KindInvalid:
			status = http.StatusBadRequest
		case kernel.KindNotFound:
			status = http.StatusNotFound
		case kernel.KindForbidden:
			status = http.StatusForbidden
		case kernel.KindRejected:
			status = http.StatusUnprocessableEntity
		case kernel.KindConflict:
			status = http.StatusConflict
		}
		if status != 0 {
			p := newProblem(status, ke.Code, ke.Msg)
			p.Field = ke.Field
			switch p.Field { // the metadata come in headers
			case "command_id":
				p.Field = headerIdempotencyKey
			case "correlation_id":
				p.Field = headerCorrelationID
			}
			return p
		}
	}
	return internalError(ctx, log, err)
}

// domainError finds a kernel.Error in err's chain, as a value or a pointer.
func domainError(err error) (kernel.Error, bool) {
	var v kernel.Error
	if errors.As(err, &v) {
		return v, true
	}
	var p *kernel.Error
	if errors.As(err, &p) && p != nil {
		return *p, true
	}
	return kernel.Error{}, false
}

// internalError logs err under a new request id and returns the 500 that names only the id.
func internalError(ctx context.Context, log *slog.Logger, err error) *Problem {
	id := newRequestID()
	log.LogAttrs(ctx, slog.LevelError, "request failed", slog.String("request_id", id), slog.String("error", err.Error()))
	p := newProblem(http.StatusInternalServerError, CodeInternal,
		"服务器内部错误。请稍后用同一个 Idempotency-Key 重试(同一命令至多记录一次);如仍失败,请把 request_id 告知管理员。")
	p.RequestID = id
	p.headers = http.Header{"X-Request-Id": {id}}
	return p
}

func newRequestID() string { return NewRequestID() }

// NewRequestID is a fresh request id: what a 5xx names so that an operator finds its cause in the log.
func NewRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// fromHuma turns an error response huma produced itself (a body over the limit, a body that could not be
// read, an unacceptable Accept header) into a Problem with the same status, so every error the API sends
// has one shape. Input validation never reaches huma: RegisterCommand decodes bodies itself (see decode.go).
// huma answers its own validation of parameters and bodies with 422; the ledger answers every input mistake
// with 400 (DESIGN.md decision 8), and the problem's status must be the answer's. huma lets only its
// package-level error constructor change the status it writes, so the package sets it once: a validation
// error with its details becomes a 400, worded by fromHuma. Every huma API in the process is the ledger's.
func init() {
	humaError := huma.NewErrorWithContext
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		err := humaError(ctx, status, msg, errs...)
		if m, ok := err.(*huma.ErrorModel); ok && m.Status == http.StatusUnprocessableEntity && len(m.Errors) > 0 {
			m.Status = http.StatusBadRequest
		}
		return err
	}
}

func fromHuma(ctx huma.Context, log *slog.Logger, m *huma.ErrorModel) *Problem {
	switch m.Status {
	case http.StatusRequestEntityTooLarge:
		return newProblem(m.Status, CodeBodyTooLarge, fmt.Sprintf("请求内容超过上限 %d 字节(1 MiB)", maxBodyBytes))
	case http.StatusBadRequest:
		if strings.Contains(m.Detail, "body is required") {
			return newProblem(m.Status, CodeBodyRequired, "请求内容不能为空:请提交命令的 JSON")
		}
	case http.StatusInternalServerError:
		errs := make([]error, 0, len(m.Errors)+1)
		errs = append(errs, errors.New(m.Detail))
		for _, d := range m.Errors {
			if d != nil {
				errs = append(errs, d)
			}
		}
		return internalError(ctx.Context(), log, errors.Join(errs...))
	}
	// huma's own validation of parameters and bodies (a header too short, a field too long): a 400 naming
	// the first input at fault, as the command API's decoder answers.
	if (m.Status == http.StatusUnprocessableEntity || m.Status == http.StatusBadRequest) && len(m.Errors) > 0 && m.Errors[0] != nil {
		d := m.Errors[0]
		field := d.Location
		for _, prefix := range []string{"body.", "header.", "query.", "path."} {
			field = strings.TrimPrefix(field, prefix)
		}
		p := newProblem(http.StatusBadRequest, CodeInvalidValue, field+": "+d.Message)
		p.Field = field
		return p
	}
	code := "http-" + fmt.Sprint(m.Status)
	return newProblem(m.Status, code, m.Detail)
}

package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/auth"
)

// The kit of the plain handlers (routes mounted with Mount rather than huma operations): the same bearer
// token → actor, role gate, problem mapping, request ids and strict decoding as the command API, so an
// audience's API is its handlers and nothing else.

// ActorHandler is a plain handler given the authenticated actor.
type ActorHandler func(w http.ResponseWriter, r *http.Request, actor commands.Actor)

// Gate authenticates the requests of plain handlers.
type Gate struct {
	Tokens TokenVerifier
	// Logger receives server errors with their request id. Default slog.Default().
	Logger *slog.Logger
}

// Require serves next to callers whose bearer token is valid and whose role may do action somewhere
// (commands.MayTry: the one authorization table): 401 with the RFC 6750 challenge without a valid token,
// 403 role-not-allowed for another role. Where the actor may do it is the handler's (and the command's)
// to check. The request's context carries the actor (auth.ActorFrom).
func (g Gate) Require(action commands.Action, next ActorHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, p := g.authenticate(r)
		if p == nil {
			if err := commands.MayTry(actor, action); err != nil {
				p = newProblem(http.StatusForbidden, CodeRoleNotAllowed, fmt.Sprintf("角色 %s 无权访问此接口", actor.Role))
			}
		}
		if p != nil {
			WriteProblem(w, r, p)
			return
		}
		next(w, r.WithContext(auth.WithActor(r.Context(), actor)), actor)
	})
}

// authenticate turns the request's bearer token into its actor, or the problem to answer.
func (g Gate) authenticate(r *http.Request) (commands.Actor, *Problem) {
	return actorOf(r.Context(), r.Header.Get("Authorization"), g.Tokens, g.logger())
}

// actorOf turns an Authorization header into the actor of its bearer token, or the problem to answer:
// 401 with the RFC 6750 challenge without a token or with one that is unknown or revoked, 500 (under a
// request id) when the tokens cannot be read. Every API of the ledger authenticates with it.
func actorOf(ctx context.Context, header string, tokens TokenVerifier, log *slog.Logger) (commands.Actor, *Problem) {
	scheme, secret, _ := strings.Cut(header, " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return commands.Actor{}, unauthenticated("需要 API 令牌:请在请求头中提供 Authorization: Bearer lg_…(用 ledger token create 创建)", false)
	}
	tok, err := tokens.Authenticate(ctx, secret)
	if errors.Is(err, auth.ErrUnauthenticated) {
		return commands.Actor{}, unauthenticated("API 令牌无效或已被撤销", true)
	}
	if err != nil {
		return commands.Actor{}, internalError(ctx, log, fmt.Errorf("authenticate: %w", err))
	}
	return tok.Actor(), nil
}

func (g Gate) logger() *slog.Logger {
	if g.Logger == nil {
		return slog.Default()
	}
	return g.Logger
}

// Fail answers err as the command API would: a refusal with its status and code (403 for commands'
// authorization, the kind's status for a domain error, 409 for a conflict), anything else a 500 whose
// cause goes to the log under a request id. Nothing is written when the client went away.
func (g Gate) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	WriteProblem(w, r, ProblemFor(r.Context(), g.logger(), err))
}

// ProblemFor maps an error to its problem, as the command API does (see Gate.Fail).
func ProblemFor(ctx context.Context, log *slog.Logger, err error) *Problem {
	return problemFor(ctx, log, err)
}

// maxPlainBody bounds the JSON body of a plain handler.
const maxPlainBody = 64 << 10

// DecodeJSON decodes the request's JSON object strictly into v (a pointer to a struct): a body that is
// not JSON, not an object, not valid UTF-8, has a key twice or one v does not declare, a text that breaks
// the ledger's text rules (kernel.CheckText) or a value of the wrong type is a 400 problem naming the
// field, found by walking the body and v's fields, never by reading an error's text.
func DecodeJSON(r *http.Request, v any) *Problem {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPlainBody+1))
	if err != nil {
		return newProblem(http.StatusBadRequest, CodeMalformedJSON, "请求内容无法读取")
	}
	if len(body) > maxPlainBody {
		return newProblem(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("请求内容超过上限 %d 字节", maxPlainBody))
	}
	var parsed any
	if err := json.Unmarshal(body, &parsed); err != nil {
		return badInput([]FieldError{parseError(body, err)})
	}
	obj, ok := parsed.(map[string]any)
	if !ok {
		return badInput([]FieldError{{Code: CodeWrongType, Message: "expected a JSON object"}})
	}
	if errs := checkBody(nil, nil, body, parsed); errs != nil { // UTF-8, keys, the text rules: as a command's body
		return badInput(errs)
	}
	declared := jsonFields(reflect.TypeOf(v))
	var unknown []FieldError
	for key := range obj {
		if !declared[key] {
			unknown = append(unknown, FieldError{Field: key, Code: CodeUnknownField, Message: "unexpected property"})
		}
	}
	if len(unknown) > 0 {
		return badInput(unknown)
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(v); err != nil {
		return badInput([]FieldError{decodeError(err)})
	}
	return nil
}

// jsonFields are the JSON names of the fields of the struct t points to.
func jsonFields(t reflect.Type) map[string]bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]bool{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out[name] = true
	}
	return out
}

// WriteJSON writes v as a JSON answer with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

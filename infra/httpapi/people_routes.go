package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/keys"
)

// PersonalPath is the clerks' look-up of a person's personal data.
const PersonalPath = "/api/v1/people/{subject}/personal-data"

// PeopleRoute is the clerks' look-up, as the OpenAPI document describes it.
var PeopleRoute = Route{Method: http.MethodGet, Path: PersonalPath, ID: "personal-data", Tag: "people",
	Summary: "The personal data recorded for a person (个人信息查询)",
	Description: "A clerk's (or an administrator's) look-up of what was last recorded of a person — name, ID number, phone, " +
		"address — in each community of the token's scope, opened from its sealed form; `\"erased\": true` once the person's " +
		"data was erased on a lawful request. 404 when nothing of the person is recorded, 403 when it is recorded only " +
		"outside the token's scope. Every look-up is logged with its actor."}

// PersonalLookUp is what the look-up needs of the key store (infra/keys.Store with the store of record).
type PersonalLookUp func(ctx context.Context, subject string, covered func(path string) bool) ([]keys.Record, int, error)

// PersonalAnswer is the look-up's answer.
type PersonalAnswer struct {
	Subject string        `json:"subject"`
	Records []keys.Record `json:"records"`
}

// RegisterPeople mounts the clerks' look-up of personal data on mux (and in api's document).
func RegisterPeople(mux *http.ServeMux, api huma.API, tokens TokenVerifier, lookUp PersonalLookUp, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	MountGated(mux, api, PeopleRoute, tokens, log, commands.LookUpPersonal, func(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
		subject := r.PathValue("subject")
		if len(subject) == 0 || len(subject) > 128 {
			WriteProblem(w, r, param("subject", "本人编号须为 1–128 个字符"))
			return
		}
		recs, outside, err := lookUp(r.Context(), subject, actor.Covers)
		switch {
		case errors.Is(err, keys.ErrNoRecords):
			WriteProblem(w, r, newProblem(http.StatusNotFound, CodeNotFound, "账本中没有此人的个人信息: "+subject))
			return
		case err != nil:
			WriteProblem(w, r, internalError(r.Context(), log, err))
			return
		case len(recs) == 0 && outside > 0:
			WriteProblem(w, r, newProblem(http.StatusForbidden, CodeOutOfScope,
				fmt.Sprintf("此人的个人信息记录在 %d 个社区/村,均不在此令牌的权限范围 %s 内", outside, actor.Scope)))
			return
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "personal data looked up", slog.String("actor", actor.String()),
			slog.String("subject", subject), slog.Int("records", len(recs)))
		WriteJSON(w, http.StatusOK, PersonalAnswer{Subject: subject, Records: recs})
	})
}

package tlog

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// The public log's paths (in the one OpenAPI document, tag public).
const (
	CheckpointPath  = "/api/v1/public/log/checkpoint"
	KeyPath         = "/api/v1/public/log/key"
	InclusionPath   = "/api/v1/public/log/inclusion"
	ConsistencyPath = "/api/v1/public/log/consistency"
)

// APIConfig is what the public log's endpoints read.
type APIConfig struct {
	DB     ptlog.Querier // the tree (rm_tlog) and the checkpoints (tlog); reads only
	Key    *Key          // the log's key: its verifier key is served
	Logger *slog.Logger
	// Witnesses are the keys of the witnesses whose cosignatures the log accepts (POST
	// /api/v1/log/cosignatures, authenticated by the signature itself), stored through Pool.
	Witnesses []note.Verifier
	Pool      *pgxpool.Pool
}

// Cosignatures is the answer to a witness's post.
type Cosignatures struct {
	Size      uint64   `json:"size" doc:"The tree size of the checkpoint cosigned"`
	Witnesses []string `json:"witnesses" doc:"The witnesses whose cosignatures were stored"`
}

type cosignIn struct {
	RawBody []byte `contentType:"text/plain"`
}

type cosignOut struct {
	Body Cosignatures
}

// InclusionProof is the answer of the inclusion endpoint.
type InclusionProof struct {
	LeafIndex uint64   `json:"leaf_index" doc:"The event's leaf: its place among the ledger's events in $all order, from 0"`
	TreeSize  uint64   `json:"tree_size" doc:"The size of the tree the proof is for: a signed checkpoint's"`
	Leaf      string   `json:"leaf" doc:"The leaf data: the event's hash (hex), as in its metadata"`
	Proof     []string `json:"proof" doc:"The audit path, bottom up, base64 (RFC 6962 / RFC 9162)"`
}

// ConsistencyProof is the answer of the consistency endpoint.
type ConsistencyProof struct {
	From  uint64   `json:"from"`
	To    uint64   `json:"to"`
	Proof []string `json:"proof" doc:"The consistency proof, base64 (RFC 6962 / RFC 9162)"`
}

type textOut struct {
	ContentType  string `header:"Content-Type"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

type inclusionOut struct {
	CacheControl string `header:"Cache-Control"`
	Body         InclusionProof
}

type consistencyOut struct {
	CacheControl string `header:"Cache-Control"`
	Body         ConsistencyProof
}

type inclusionIn struct {
	Position string `query:"position" doc:"The event's $all position, commit/prepare (as verify and export print it)"`
	TreeSize string `query:"tree_size" doc:"A signed checkpoint's tree size (default: the latest checkpoint's)"`
}

type consistencyIn struct {
	From string `query:"from" doc:"The older checkpoint's tree size"`
	To   string `query:"to" doc:"The newer checkpoint's tree size (default: the latest checkpoint's)"`
}

// A proof for a given tree size never changes; the latest checkpoint does.
const (
	immutable = "public, max-age=31536000, immutable"
	shortLive = "public, max-age=5"
)

// RegisterAPI adds the public log's endpoints to api.
func RegisterAPI(api huma.API, cfg APIConfig) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	tree := ptlog.NewTree(cfg.DB)
	problem := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[httpapi.Problem](), true, "Problem")
	op := func(id, path, summary, desc, contentType string, body reflect.Type) huma.Operation {
		content := &huma.MediaType{}
		if body != nil {
			content.Schema = api.OpenAPI().Components.Schemas.Schema(body, true, "")
		}
		errResp := func(what string) *huma.Response {
			return &huma.Response{Description: what, Content: map[string]*huma.MediaType{httpapi.ProblemContentType: {Schema: problem}}}
		}
		return huma.Operation{OperationID: id, Method: http.MethodGet, Path: path, Summary: summary, Tags: []string{"public"},
			Description: desc + "\n\nPublic: no token. The log is a Merkle tree (RFC 6962) over every ledger event in $all order " +
				"(the store's own $-streams left out); leaf i is the i-th such event, its data the event's 32-byte hash.",
			Responses: map[string]*huma.Response{
				"200": {Description: "OK", Content: map[string]*huma.MediaType{contentType: content}},
				"400": errResp("A parameter is invalid (named in `field`)."),
				"404": errResp("Not in the log yet: no such event, or a size beyond the latest checkpoint."),
				"500": errResp("Server error; `request_id` identifies it in the log."),
			}}
	}
	fail := func(ctx context.Context, err error, field string) error {
		switch {
		case errors.Is(err, ErrNoCheckpoint):
			return httpapi.NewProblem(http.StatusNotFound, httpapi.CodeNotFound, "尚未签发检查点：日志为空，或签发程序尚未运行", "")
		case errors.Is(err, ptlog.ErrNotFound):
			return httpapi.NewProblem(http.StatusNotFound, httpapi.CodeNotFound, "日志中没有这项：事件不存在，或尚未收录于所请求大小的树", field)
		case errors.Is(err, ptlog.ErrInvalid):
			return httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, err.Error(), field)
		}
		id := httpapi.NewRequestID()
		cfg.Logger.ErrorContext(ctx, "tlog: public log request failed", "request_id", id, "error", err.Error())
		p := httpapi.NewProblem(http.StatusInternalServerError, httpapi.CodeInternal, "服务器暂时无法读取日志，请稍后重试。", "")
		p.RequestID = id
		return p
	}
	// signed is the size of the latest checkpoint this process has read: checkpoints are never removed, so
	// a size up to it is a signed checkpoint's without asking the database again.
	var signed atomic.Uint64
	// size reads a tree size parameter: empty is the latest checkpoint's; beyond it is 404.
	size := func(ctx context.Context, s, field string) (uint64, error) {
		var n uint64
		if s != "" {
			var err error
			if n, err = strconv.ParseUint(s, 10, 64); err != nil {
				return 0, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, field+" 应为树的大小(非负整数)", field)
			}
			if n <= signed.Load() {
				return n, nil
			}
		}
		latest, err := Latest(ctx, cfg.DB)
		if err != nil {
			return 0, fail(ctx, err, field)
		}
		for seen := signed.Load(); seen < latest.Size && !signed.CompareAndSwap(seen, latest.Size); seen = signed.Load() {
		}
		if s == "" {
			return latest.Size, nil
		}
		if n > latest.Size {
			return 0, httpapi.NewProblem(http.StatusNotFound, httpapi.CodeNotFound,
				fmt.Sprintf("%s %d 超出最新检查点的大小 %d", field, n, latest.Size), field)
		}
		return n, nil
	}

	registerCosignatures(api, cfg, fail, func(what string) *huma.Response {
		return &huma.Response{Description: what, Content: map[string]*huma.MediaType{httpapi.ProblemContentType: {Schema: problem}}}
	})
	huma.Register(api, op("public-log-checkpoint", CheckpointPath, "The log's latest signed checkpoint",
		"The latest checkpoint (C2SP tlog-checkpoint: origin, tree size, base64 root) as a signed note, with the witnesses' "+
			"cosignatures. Verify it with the key at "+KeyPath+" (golang.org/x/mod/sumdb/note).", "text/plain; charset=utf-8", nil),
		func(ctx context.Context, _ *struct{}) (*textOut, error) {
			n, err := LatestNote(ctx, cfg.DB)
			if err != nil {
				return nil, fail(ctx, err, "")
			}
			return &textOut{ContentType: "text/plain; charset=utf-8", CacheControl: shortLive, Body: n}, nil
		})
	huma.Register(api, op("public-log-key", KeyPath, "The log's note verifier key",
		"The verifier key of the key that signs every checkpoint.", "text/plain; charset=utf-8", nil),
		func(context.Context, *struct{}) (*textOut, error) {
			return &textOut{ContentType: "text/plain; charset=utf-8", CacheControl: "public, max-age=3600",
				Body: []byte(cfg.Key.VerifierKey() + "\n")}, nil
		})
	huma.Register(api, op("public-log-inclusion", InclusionPath, "Prove an event is in the log",
		"The inclusion proof of the event at a $all position in the tree of a signed checkpoint's size.",
		"application/json", reflect.TypeFor[InclusionProof]()),
		func(ctx context.Context, in *inclusionIn) (*inclusionOut, error) {
			if in.Position == "" {
				return nil, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeMissingField, "position 不能为空：事件的 $all 位置 commit/prepare", "position")
			}
			pos, err := eventlog.ParsePosition(in.Position)
			if err != nil {
				return nil, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "position 应为 commit/prepare，例如 1234/1234", "position")
			}
			n, err := size(ctx, in.TreeSize, "tree_size")
			if err != nil {
				return nil, err
			}
			inc, err := tree.InclusionOf(ctx, pos, n)
			if err != nil {
				return nil, fail(ctx, err, "position")
			}
			cache := shortLive
			if in.TreeSize != "" {
				cache = immutable
			}
			return &inclusionOut{CacheControl: cache, Body: InclusionProof{LeafIndex: inc.Leaf.Index, TreeSize: inc.TreeSize,
				Leaf: hex.EncodeToString(inc.Leaf.Data), Proof: encode(inc.Proof)}}, nil
		})
	huma.Register(api, op("public-log-consistency", ConsistencyPath, "Prove a checkpoint extends an older one",
		"The consistency proof between two tree sizes: the newer tree extends the older, nothing in it changed.",
		"application/json", reflect.TypeFor[ConsistencyProof]()),
		func(ctx context.Context, in *consistencyIn) (*consistencyOut, error) {
			if in.From == "" {
				return nil, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeMissingField, "from 不能为空：较早检查点的树大小", "from")
			}
			from, err := size(ctx, in.From, "from")
			if err != nil {
				return nil, err
			}
			to, err := size(ctx, in.To, "to")
			if err != nil {
				return nil, err
			}
			if from > to {
				return nil, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "from 不能大于 to", "from")
			}
			p, err := tree.Consistency(ctx, from, to)
			if err != nil {
				return nil, fail(ctx, err, "from")
			}
			cache := shortLive
			if in.To != "" {
				cache = immutable
			}
			return &consistencyOut{CacheControl: cache, Body: ConsistencyProof{From: from, To: to, Proof: encode(p)}}, nil
		})
}

// registerCosignatures adds the witnesses' endpoint: a witness posts the checkpoint's text with its own
// signature line(s); each signature of a known witness over a checkpoint the log signed is stored and
// served after the log's own (GET checkpoint).
func registerCosignatures(api huma.API, cfg APIConfig, fail func(context.Context, error, string) error, errResp func(string) *huma.Response) {
	huma.Register(api, huma.Operation{OperationID: "log-cosign", Method: http.MethodPost, Path: CosignaturesPath, Tags: []string{"witness"},
		Summary: "A witness cosigns a checkpoint",
		Description: "The body is the checkpoint's text (origin, tree size, base64 root) followed by a blank line and the witness's " +
			"C2SP tlog-cosignature line(s) over it (cosignature/v1: key type 0x04, an 8-byte timestamp and an Ed25519 signature " +
			"over \"cosignature/v1\\ntime <unix seconds>\\n\" and the checkpoint's text). No token: the signature is the authentication, by a witness whose key the ledger " +
			"was given (serve --witness). The witness cosigns only after verifying the checkpoint extends the last one it cosigned.",
		MaxBodyBytes: 64 << 10,
		Responses: map[string]*huma.Response{
			"200": {Description: "Stored", Content: map[string]*huma.MediaType{"application/json": {
				Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[Cosignatures](), true, "")}}},
			"400": errResp("Not a cosigned checkpoint, or a signature that does not verify over it."),
			"403": errResp("No signature by a witness the ledger knows."),
			"404": errResp("The log signed no checkpoint of that size."),
		}},
		func(ctx context.Context, in *cosignIn) (*cosignOut, error) {
			text, _, ok := strings.Cut(string(in.RawBody), "\n\n")
			c, err := ParseBody(text + "\n")
			if !ok || err != nil {
				return nil, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "请求内容应为检查点正文、空行和见证方的签名行", "body")
			}
			n, err := note.Open(in.RawBody, note.VerifierList(cfg.Witnesses...))
			if _, bad := errors.AsType[*note.InvalidSignatureError](err); bad {
				return nil, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "见证方的签名与检查点不符(应为 C2SP cosignature/v1 签名)", "body")
			}
			if err != nil || cfg.Pool == nil {
				return nil, httpapi.NewProblem(http.StatusForbidden, "unknown-witness", "没有本账本登记的见证方的有效 cosignature/v1 签名(serve --witness)", "body")
			}
			out := Cosignatures{Size: c.Size}
			for _, s := range n.Sigs {
				for _, v := range cfg.Witnesses {
					if v.Name() != s.Name || v.KeyHash() != s.Hash {
						continue
					}
					line := []byte("\u2014 " + s.Name + " " + s.Base64 + "\n")
					if err := AddCosignature(ctx, cfg.Pool, c.Size, v, line); err != nil {
						switch {
						case errors.Is(err, ErrNoSuchCheckpoint):
							return nil, httpapi.NewProblem(http.StatusNotFound, httpapi.CodeNotFound, fmt.Sprintf("日志没有签发大小为 %d 的检查点", c.Size), "body")
						case errors.Is(err, ErrBadCosignature):
							return nil, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "见证签名与日志签发的检查点不符", "body")
						}
						return nil, fail(ctx, err, "")
					}
					out.Witnesses = append(out.Witnesses, s.Name)
				}
			}
			return &cosignOut{Body: out}, nil
		})
}

// encode is a proof as the endpoints answer it: its hashes in base64; DecodeProof reads it back.
func encode(hashes [][]byte) []string {
	out := make([]string, len(hashes))
	for i, h := range hashes {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}

// DecodeProof reads a proof as the endpoints answer it (base64 hashes).
func DecodeProof(b64 []string) ([][]byte, error) {
	out := make([][]byte, len(b64))
	for i, s := range b64 {
		var err error
		if out[i], err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("proof hash %d: %w", i, err)
		}
	}
	return out, nil
}

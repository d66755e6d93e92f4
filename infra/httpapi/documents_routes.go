package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/docstore"
)

// DocumentsPath is where clerks upload the documents their records name by hash.
const DocumentsPath = "/api/v1/documents"

// DocumentsRoute is the upload, as the OpenAPI document describes it.
var DocumentsRoute = Route{Method: http.MethodPost, Path: DocumentsPath, ID: "upload-document", Tag: "documents",
	Summary: "Upload a document: minutes, a voucher, an audit report, a notice's attachment (上传文件)",
	Description: "The body is the document itself: a PDF, PNG or JPEG (sniffed from the bytes), at most 10 MiB. It is kept by its " +
		"SHA-256, which the answer gives (201): name it in the command that records it (a notice's attachments, the minutes' " +
		"document_sha256), before or after. Uploading the same document again changes nothing. The portal serves a document only " +
		"when a public record names it, its hash checked on every read. For clerks, committee members and administrators.",
	Produces: "application/json"}

// RegisterDocuments mounts the documents' upload on mux (and in api's document).
func RegisterDocuments(mux *http.ServeMux, api huma.API, tokens TokenVerifier, docs *docstore.Store, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	MountGated(mux, api, DocumentsRoute, tokens, log, commands.RecordAffairs, func(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
		d, err := docs.Put(http.MaxBytesReader(w, r.Body, docs.Max()+1))
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, docstore.ErrTooLarge) || errors.As(err, &tooBig):
			WriteProblem(w, r, NewProblem(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "文件超过上限 10 MiB", "body"))
			return
		case errors.Is(err, docstore.ErrType):
			WriteProblem(w, r, NewProblem(http.StatusUnsupportedMediaType, "document-type", "只接受 PDF、PNG 和 JPEG 文件", "body"))
			return
		case err != nil:
			WriteProblem(w, r, internalError(r.Context(), log, err))
			return
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "document stored", slog.String("actor", actor.String()), slog.String("sha256", d.SHA256),
			slog.Int64("size", d.Size), slog.String("type", d.ContentType))
		WriteJSON(w, http.StatusCreated, d)
	})
}

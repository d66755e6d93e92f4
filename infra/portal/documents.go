package portal

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/grassroots-ledger/ledger/infra/docstore"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/meetings"
)

// Documents reads the documents the records name by hash (infra/docstore.Store).
type Documents interface {
	Get(sha string) ([]byte, docstore.Doc, error)
}

// documentPage is GET /documents/{sha256}: a document a public record names (a notice's attachment, a
// meeting's minutes, a topic's plan or result), its hash checked on the way out; 404 for a document no
// public record names, or one not uploaded yet.
func (p *Portal) documentPage(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	if p.cfg.Documents == nil {
		p.errorPage(w, r, http.StatusNotFound, "文件暂不提供", "本门户暂不提供文件下载；文件的 SHA-256 见公开事项。")
		return
	}
	ctx := r.Context()
	named, err := board.NamesDocument(ctx, p.db, sha)
	if err == nil && !named {
		named, err = meetings.NamesDocument(ctx, p.db, sha)
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if !named {
		p.errorPage(w, r, http.StatusNotFound, "没有找到文件", "没有哪一项公开记录提到这个文件。")
		return
	}
	b, d, err := p.cfg.Documents.Get(sha)
	switch {
	case errors.Is(err, docstore.ErrNotFound) || errors.Is(err, docstore.ErrBadHash):
		p.errorPage(w, r, http.StatusNotFound, "文件尚未上传", "公开记录提到了这个文件（SHA-256 "+sha+"），但村（居）委会尚未上传。")
		return
	case errors.Is(err, docstore.ErrCorrupt):
		p.log.ErrorContext(ctx, "portal: a stored document does not match its hash", "sha256", sha)
		p.errorPage(w, r, http.StatusInternalServerError, "文件校验失败", "保存的文件与账本记录的哈希值不一致，已停止提供，请联系管理员。")
		return
	case err != nil:
		p.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", d.ContentType)
	h.Set("Content-Length", strconv.FormatInt(d.Size, 10))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", "inline")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+sha+`"`)
	h.Set("Digest", "sha-256="+sha)
	if r.Header.Get("If-None-Match") == `"`+sha+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(b)
}

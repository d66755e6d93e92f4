package runtime_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

type named struct {
	name   string
	policy runtime.PoisonPolicy
}

func (m named) Name() string                 { return m.name }
func (m named) Poison() runtime.PoisonPolicy { return m.policy }
func (m named) Migrations() fs.FS            { return mapFS("SELECT 1;") }
func (m named) Apply(context.Context, pgx.Tx, []eventlog.Recorded) error {
	return nil
}

func TestConfigValidateNamesTheProblem(t *testing.T) {
	pool := &pgxpool.Pool{} // never used: New does not touch the database
	migrate := func(context.Context, string, string, fs.FS) error { return nil }
	ok := runtime.Config{Pool: pool, Source: replayingSource{}, Migrate: migrate}
	cases := map[string]struct {
		cfg  runtime.Config
		want string
	}{
		"no pool":          {runtime.Config{Source: ok.Source, Migrate: migrate}, "Pool"},
		"no source":        {runtime.Config{Pool: pool, Migrate: migrate}, "Source"},
		"no migrator":      {runtime.Config{Pool: pool, Source: ok.Source}, "Migrate"},
		"bad name":         {withModels(ok, named{"Audit-Trail", runtime.Halt}), "Audit-Trail"},
		"reserved name":    {withModels(ok, named{"meta", runtime.Halt}), "reserved"},
		"no policy":        {withModels(ok, named{"board", 0}), "Halt or SkipAndReport"},
		"duplicate models": {withModels(ok, named{"board", runtime.Halt}, named{"board", runtime.SkipAndReport}), "two read models"},
		"bad role":         {func() runtime.Config { c := ok; c.ReadOnlyRole = "portal; DROP"; return c }(), "ReadOnlyRole"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := runtime.New(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, want an error mentioning %q", err, c.want)
			}
		})
	}
	if _, err := runtime.New(withModels(ok, named{"board", runtime.Halt}, named{"search_index", runtime.SkipAndReport})); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
}

func withModels(c runtime.Config, ms ...runtime.ReadModel) runtime.Config {
	c.Models = ms
	return c
}

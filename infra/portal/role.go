package portal

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/infra/tlog"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// DefaultRole is the PostgreSQL role the portal's queries run as (DESIGN.md decision 6).
const DefaultRole = "ledger_portal"

// PublicSchemas are the read models whose every table is public: the portal's role may read all of them.
// They hold no personal data by design (masked payee names, opaque person ids, counts of objections).
var PublicSchemas = []string{directory.Schema, board.Schema, finances.Schema, elections.Schema, meetings.Schema, ptlog.Schema}

// The models the portal reads only in part. Each grant names the tables (and, for the audit trail, the
// columns) it may read; everything else in those schemas stays closed to the role.
const (
	alertsSchema     = "rm_alerts"
	auditTrailSchema = "rm_audittrail"
	metaSchema       = "rm_meta"
)

// alertsTables are the supervisors' model's public tables: ratings, alerts and the rule overrides in force
// (the rulebook the assessment scores by is public). Not the engine's state, not the outbox, not the feed
// with its payloads.
var alertsTables = []string{"ratings", "alerts", "overrides", "checkpoint"}

var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// EnsureRole creates the portal's role if it is missing and grants it read access to the public read
// models — and to nothing else. Run it with the administrative pool (the one that migrates the models)
// after the models are migrated; it is idempotent and cheap, so run it again after a rebuild swapped a
// model's schema (a swap replaces the schema and with it its grants): serve does that whenever a portal
// query is denied (Config.Regrant).
//
// The role is LOGIN without a password, NOINHERIT, and every session of it is read-only with a statement
// timeout (ALTER ROLE … SET): with the local trust-auth clusters of the Makefile the portal connects as it
// with the administrator's URL and another user name (OpenPool). In production give it a password
// (ALTER ROLE ledger_portal PASSWORD …) and pass its own URL (PORTAL_DATABASE_URL).
//
// What it may read: every table of PublicSchemas; rm_alerts.ratings and rm_alerts.alerts; the checkpoint
// of each model and rm_meta.projections(name, state) for the freshness line; and the envelope columns of
// rm_audittrail.audit_events (type, time, community, hash) for the public event page. It may not read the
// audit trail's actors, command or correlation ids, the tokens (schema auth), the rules engine's state
// or anything it is not granted.
func EnsureRole(ctx context.Context, admin *pgxpool.Pool, role string) error {
	if !roleName.MatchString(role) {
		return fmt.Errorf("portal role %q is not a plain lower-case role name", role)
	}
	r := pgx.Identifier{role}.Sanitize()
	create := `DO $$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '` + role + `') THEN
			CREATE ROLE ` + r + ` LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
		END IF;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; -- created meanwhile by another database's portal
	END $$`
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if _, err = admin.Exec(ctx, create); err == nil || !retryable(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("create the portal role %s: %w", role, err)
	}
	// Role settings apply at every login of the role, whatever the client asks for in its connection.
	settings := []string{
		"ALTER ROLE " + r + " SET default_transaction_read_only = on",
		"ALTER ROLE " + r + " SET statement_timeout = '5s'",
		"ALTER ROLE " + r + " SET idle_in_transaction_session_timeout = '10s'",
	}
	for _, s := range settings {
		if err := execRetry(ctx, admin, s); err != nil {
			return fmt.Errorf("configure the portal role %s: %w", role, err)
		}
	}

	present, err := existing(ctx, admin)
	if err != nil {
		return err
	}
	var stmts []string
	for _, s := range PublicSchemas {
		if !present[s+".checkpoint"] {
			continue // the model is not migrated in this database (yet)
		}
		id := pgx.Identifier{s}.Sanitize()
		stmts = append(stmts, "GRANT USAGE ON SCHEMA "+id+" TO "+r, "GRANT SELECT ON ALL TABLES IN SCHEMA "+id+" TO "+r)
	}
	if present[alertsSchema+".ratings"] {
		stmts = append(stmts, "GRANT USAGE ON SCHEMA "+alertsSchema+" TO "+r)
		for _, t := range alertsTables {
			if present[alertsSchema+"."+t] {
				stmts = append(stmts, "GRANT SELECT ON "+pgx.Identifier{alertsSchema, t}.Sanitize()+" TO "+r)
			}
		}
	}
	if present[auditTrailSchema+".audit_events"] {
		stmts = append(stmts, "GRANT USAGE ON SCHEMA "+auditTrailSchema+" TO "+r,
			"GRANT SELECT ("+strings.Join(audittrail.PublicColumns, ", ")+") ON "+auditTrailSchema+".audit_events TO "+r,
			"GRANT SELECT ON "+auditTrailSchema+".checkpoint TO "+r)
	}
	if present[metaSchema+".projections"] {
		stmts = append(stmts, "GRANT USAGE ON SCHEMA "+metaSchema+" TO "+r, "GRANT SELECT (name, state) ON "+metaSchema+".projections TO "+r)
	}
	for _, s := range stmts {
		if err := execRetry(ctx, admin, s); err != nil {
			return fmt.Errorf("grant the portal role read access: %s: %w", s, err)
		}
	}
	// The transparency log's signed checkpoints (schema tlog), when the ledger keeps them.
	if present[tlog.Schema+".checkpoints"] {
		if err := tlog.GrantRead(ctx, admin, role); err != nil {
			return fmt.Errorf("grant the portal role read access to the log's checkpoints: %w", err)
		}
	}
	return nil
}

// existing returns the tables of interest that exist, as "schema.table".
func existing(ctx context.Context, db *pgxpool.Pool) (map[string]bool, error) {
	schemas := append([]string{alertsSchema, auditTrailSchema, metaSchema, tlog.Schema}, PublicSchemas...)
	rows, err := db.Query(ctx, `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v')`, schemas)
	if err != nil {
		return nil, fmt.Errorf("list the read models' tables: %w", err)
	}
	out := map[string]bool{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		out[t] = true
	}
	return out, rows.Err()
}

func execRetry(ctx context.Context, db *pgxpool.Pool, sql string) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if _, err = db.Exec(ctx, sql); err == nil || !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	return err
}

// retryable: role catalogue rows are shared by every database of the cluster, so two databases granting
// to the role at once can collide ("tuple concurrently updated").
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "XX000" || pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "23505")
}

// PoolConfig is how OpenPool connects.
type PoolConfig struct {
	// URL is a PostgreSQL connection string. With Role set, its user is replaced by Role and its password
	// dropped: the trust-auth clusters of the Makefile need nothing else. Leave Role empty to use the URL as
	// it is (PORTAL_DATABASE_URL, with the role's own user and password).
	URL  string
	Role string
	// MaxConns caps the pool; default 16. Cached pages need no database at all, so a few connections
	// serve thousands of requests a second.
	MaxConns int32
}

// OpenPool opens the portal's pool and checks that it really runs as a role that cannot write: every
// session is read-only (the role's settings, repeated in the connection's parameters), so a bug that
// builds a write statement fails instead of changing a read model.
func OpenPool(ctx context.Context, cfg PoolConfig) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, errors.New("portal: the database URL is not a valid PostgreSQL connection string")
	}
	if cfg.Role != "" {
		pc.ConnConfig.User, pc.ConnConfig.Password = cfg.Role, ""
	}
	pc.MaxConns = cfg.MaxConns
	if pc.MaxConns <= 0 {
		pc.MaxConns = 16
	}
	rp := pc.ConnConfig.RuntimeParams
	rp["application_name"] = "ledger-portal"
	rp["default_transaction_read_only"] = "on"
	rp["statement_timeout"] = "5000"
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(cctx, pc)
	if err != nil {
		return nil, fmt.Errorf("portal: connect as %s: %w", pc.ConnConfig.User, err)
	}
	var user string
	var super, readOnly bool
	for {
		err = pool.QueryRow(cctx, `SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
			current_setting('transaction_read_only') = 'on'`).Scan(&user, &super, &readOnly)
		// On a read replica the role EnsureRole just created on the primary may not have arrived yet
		// (28000: the role does not exist): wait for it, within the bound.
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || pe.Code != "28000" || cctx.Err() != nil {
			break
		}
		select {
		case <-cctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("portal: connect as %s: %w (run EnsureRole first; with password authentication give the role a password and set PORTAL_DATABASE_URL)", pc.ConnConfig.User, err)
	}
	if super || !readOnly {
		pool.Close()
		return nil, fmt.Errorf("portal: role %s is a superuser or not read-only: the portal must run as a role that can only read the public models (EnsureRole creates one)", user)
	}
	return pool, nil
}

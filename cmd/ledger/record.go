package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
)

type recordOptions struct {
	file, key, correlation, server, token string
	list                                  bool
	timeout                               time.Duration
}

func newRecordCmd() *cobra.Command {
	var o recordOptions
	cmd := &cobra.Command{
		Use:   "record NAME [BODY.json | -] [--idempotency-key KEY]",
		Short: "Give the ledger a command: post its JSON to the command API and print the result",
		Long: `record posts a command to a running ledger (POST /api/v1/commands/NAME) and prints the result: the
stream it was recorded in, its revision and the events appended.

The body is the command's JSON, from the file named after the command (or --file), or from standard
input (- or nothing). Every command has an idempotency key: give one with --idempotency-key, or record
makes a new one and prints it on standard error. If the answer is lost (a timeout, a dropped
connection), run the same command again with that key: the ledger records it at most once and returns
the first result.

A refusal prints the reason and its stable code and exits with status 1; nothing was recorded. 'record
--list' lists the commands the server knows, from its OpenAPI document (/api/v1/openapi.json), which
also describes every field.

Environment:
  LEDGER_URL    the ledger's address (default http://127.0.0.1:8080)
  LEDGER_TOKEN  the API token (ledger token create)`,
		Example: `  export LEDGER_TOKEN=lg_…
  ledger record --list
  ledger record request-expenditure expenditure.json
  ledger record request-expenditure expenditure.json --idempotency-key 0193a4c2-…   # retry after a timeout
  echo '{"community_id":"330303001001","expenditure_id":"2026-0042","by":"p-17"}' |
      ledger record approve-expenditure --idempotency-key approve-2026-0042`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case o.list && len(args) == 0, !o.list && len(args) == 1:
				return nil
			case !o.list && len(args) == 2:
				if cmd.Flags().Changed("file") {
					return usageError{cmd: "record", err: errors.New("give the body's file once: as --file or after the name")}
				}
				o.file = args[1]
				return nil
			}
			return usageError{cmd: "record", err: errors.New("give the command's name (ledger record --list shows them) and optionally the body's file, or --list")}
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.server == "" {
				o.server = "http://127.0.0.1:8080"
			}
			o.server = strings.TrimSuffix(o.server, "/")
			client := &http.Client{Timeout: o.timeout}
			if o.list {
				return listCommands(cmd, client, o)
			}
			return recordCommand(cmd, client, o, args[0])
		},
	}
	cmd.Flags().StringVarP(&o.file, "file", "f", "-", "file holding the command's JSON body; - for standard input")
	cmd.Flags().StringVarP(&o.key, "idempotency-key", "k", "", "the command's id; reuse it to retry (default: a new UUIDv7, printed)")
	cmd.Flags().StringVar(&o.correlation, "correlation-id", "", "ties this command to others of one piece of work (default: the idempotency key)")
	cmd.Flags().StringVar(&o.server, "server", os.Getenv("LEDGER_URL"), "the ledger's address (default $LEDGER_URL or http://127.0.0.1:8080)")
	cmd.Flags().StringVar(&o.token, "token", "", "API token (default $LEDGER_TOKEN)")
	cmd.Flags().BoolVar(&o.list, "list", false, "list the commands the server knows, with their summaries")
	cmd.Flags().DurationVar(&o.timeout, "timeout", time.Minute, "give up waiting for the answer after this long")
	return cmd
}

func recordCommand(cmd *cobra.Command, client *http.Client, o recordOptions, name string) error {
	token := o.token
	if token == "" {
		token = os.Getenv("LEDGER_TOKEN")
	}
	if token == "" {
		return usageError{cmd: "record", err: errors.New("no API token: set LEDGER_TOKEN or --token (ledger token create makes one)")}
	}
	body, err := readBody(cmd, o.file)
	if err != nil {
		return err
	}
	key := o.key
	if key == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		key = id.String()
		fmt.Fprintf(cmd.ErrOrStderr(), "idempotency key %s (to retry this very command: --idempotency-key %s)\n", key, key)
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, o.server+httpapi.CommandPathPrefix+name, bytes.NewReader(body))
	if err != nil {
		return usageError{cmd: "record", err: fmt.Errorf("--server %s: %w", o.server, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	if o.correlation != "" {
		req.Header.Set("X-Correlation-ID", o.correlation)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s to %s: %w\nThe command may or may not have been recorded: retry with --idempotency-key %s (is the ledger running? --server or LEDGER_URL)",
			name, o.server, err, key)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read the answer to %s: %w\nRetry with --idempotency-key %s", name, err, key)
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, bytes.TrimSpace(answer), "", "  "); err != nil {
			return fmt.Errorf("the server answered %d with something that is not JSON: %.200s", resp.StatusCode, answer)
		}
		pretty.WriteByte('\n')
		if _, err := cmd.OutOrStdout().Write(pretty.Bytes()); err != nil {
			return err
		}
		var res commands.Result
		if json.Unmarshal(answer, &res) == nil && len(res.Breaches) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "Recorded, but the fact breaks %d watch rule(s); the supervisors are alerted:\n", len(res.Breaches))
			for _, b := range res.Breaches {
				fmt.Fprintf(cmd.ErrOrStderr(), "  %s (%s): %s\n", b.Title, b.Rule, b.Detail)
			}
		}
		return nil
	}
	return answerError(resp, answer, key)
}

// answerError explains a refusal: the problem's detail, code and field, or what came instead.
func answerError(resp *http.Response, answer []byte, key string) error {
	var p httpapi.Problem
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != httpapi.ProblemContentType || json.Unmarshal(answer, &p) != nil || p.Code == "" {
		return fmt.Errorf("the server answered %s: %.300s", resp.Status, answer)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n  code %s, status %d", p.Detail, p.Code, p.Status)
	if p.Field != "" {
		fmt.Fprintf(&b, ", field %s", p.Field)
	}
	if p.RequestID != "" {
		fmt.Fprintf(&b, ", request id %s", p.RequestID)
	}
	for _, e := range p.Errors[min(1, len(p.Errors)):] {
		fmt.Fprintf(&b, "\n  also: %s: %s (%s)", e.Field, e.Message, e.Code)
	}
	switch {
	case resp.StatusCode == http.StatusConflict && p.Code == httpapi.CodeRetry:
		fmt.Fprintf(&b, "\nNothing was recorded. Retry with --idempotency-key %s", key)
	case resp.StatusCode >= 500:
		fmt.Fprintf(&b, "\nRetry with --idempotency-key %s: the ledger records a command at most once", key)
	case resp.StatusCode == http.StatusUnauthorized:
		b.WriteString("\nCheck LEDGER_TOKEN or --token (ledger token list shows the tokens)")
	}
	return errors.New(b.String())
}

func readBody(cmd *cobra.Command, file string) ([]byte, error) {
	if file == "-" {
		if f, ok := cmd.InOrStdin().(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "reading the command's JSON from standard input (end with Ctrl-D; or use --file)")
			}
		}
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, usageError{cmd: "record", err: fmt.Errorf("--file: %w", err)}
	}
	return b, nil
}

// listCommands prints the commands of the server's OpenAPI document, so the list never drifts from the
// server.
func listCommands(cmd *cobra.Command, client *http.Client, o recordOptions) error {
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, o.server+httpapi.OpenAPIPath, nil)
	if err != nil {
		return usageError{cmd: "record", err: fmt.Errorf("--server %s: %w", o.server, err)}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch the command list from %s: %w (is the ledger running? --server or LEDGER_URL)", o.server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s%s: %s", o.server, httpapi.OpenAPIPath, resp.Status)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Summary string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return fmt.Errorf("read %s%s: %w", o.server, httpapi.OpenAPIPath, err)
	}
	type entry struct{ name, summary string }
	var list []entry
	for path, ops := range doc.Paths {
		name, ok := strings.CutPrefix(path, httpapi.CommandPathPrefix)
		if op, has := ops["post"]; ok && has {
			list = append(list, entry{name, op.Summary})
		}
	}
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	for _, e := range list {
		fmt.Fprintf(w, "%s\t%s\n", e.name, e.summary)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%d commands; fields of each: %s%s\n", len(list), o.server, httpapi.OpenAPIPath)
	return nil
}

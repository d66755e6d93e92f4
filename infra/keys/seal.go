package keys

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// The sealed form of a personal object is kernel.PersonalData with Subject, Key and Sealed: Sealed is the
// base64 of a 12-byte nonce and the AES-256-GCM ciphertext of the clear fields' JSON, under the data key
// Key of Subject, with associated data naming the subject and the event. The encoding is part of the
// permanent record (it is hashed): a change is a new version of the associated data's prefix.
const personalAAD = "grassroots-ledger/personal/v1\x00"

func aad(subject kernel.PersonID, event eventlog.ID) []byte {
	return []byte(personalAAD + string(subject) + "\x00" + event.String())
}

// clearFields are the fields a sealed object hides.
type clearFields struct {
	Name       string `json:"name,omitempty"`
	NationalID string `json:"national_id,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Address    string `json:"address,omitempty"`
}

var personalKey = []byte(`"personal"`)

// HasClearPersonalData reports whether a payload holds a personal object in clear: a store written
// before personal data was sealed.
func HasClearPersonalData(data []byte) (bool, error) {
	fs, err := find(func(int) []byte { return data }, 1, isClear)
	return len(fs) > 0, err
}

// isClear: a personal object with personal fields, not sealed.
func isClear(p kernel.PersonalData) bool { return !p.IsSealed() && hasClear(p) }

func hasClear(p kernel.PersonalData) bool {
	return p.Name != "" || p.NationalID != "" || p.Phone != "" || p.Address != ""
}

// found is one personal object of one event.
type found struct {
	event int // index in the batch
	span  [2]int
	data  kernel.PersonalData
}

// find lists the personal objects of the payloads; keep says which to list.
func find(payloads func(i int) []byte, n int, keep func(kernel.PersonalData) bool) ([]found, error) {
	var out []found
	for i := range n {
		data := payloads(i)
		if !bytes.Contains(data, personalKey) {
			continue
		}
		spans, err := personalSpans(data)
		if err != nil {
			return nil, err
		}
		for _, sp := range spans {
			var p kernel.PersonalData
			if err := json.Unmarshal(data[sp[0]:sp[1]], &p); err != nil {
				return nil, fmt.Errorf("keys: a personal object that is not one: %w", err)
			}
			if keep(p) {
				out = append(out, found{event: i, span: sp, data: p})
			}
		}
	}
	return out, nil
}

// splice replaces the spans of data (in order, not overlapping) with the replacements.
func splice(data []byte, spans [][2]int, with [][]byte) []byte {
	out := make([]byte, 0, len(data)+64*len(spans))
	at := 0
	for i, sp := range spans {
		out = append(out, data[at:sp[0]]...)
		out = append(out, with[i]...)
		at = sp[1]
	}
	return append(out, data[at:]...)
}

// rewrite replaces each found object (grouped by event, in order) with its replacement, returning the
// new payloads of the events that changed.
func rewrite(fs []found, with [][]byte, payloads func(i int) []byte) map[int][]byte {
	out := map[int][]byte{}
	for i := 0; i < len(fs); {
		j := i
		for j < len(fs) && fs[j].event == fs[i].event {
			j++
		}
		spans := make([][2]int, 0, j-i)
		for _, f := range fs[i:j] {
			spans = append(spans, f.span)
		}
		out[fs[i].event] = splice(payloads(fs[i].event), spans, with[i:j])
		i = j
	}
	return out
}

// Seal encrypts every clear personal object of events (about to be appended) with its subject's live data
// key, creating the keys it needs (one round trip to the key store when they exist). Objects already
// sealed and objects without personal fields are left as they are; events without personal data are not
// touched. A personal object without a subject cannot be sealed and is refused.
func (s *Store) Seal(ctx context.Context, events []eventlog.Event) error {
	payload := func(i int) []byte { return events[i].Data }
	fs, err := find(payload, len(events), isClear)
	if err != nil || len(fs) == 0 {
		return err
	}
	holders := make([]Holder, len(fs))
	for i, f := range fs {
		if f.data.Subject == "" {
			return kernel.Invalid("personal-data-subject-required", "personal.subject", "个人信息须注明所属的人(subject)")
		}
		m := events[f.event].Meta
		holders[i] = Holder{Subject: string(f.data.Subject), Community: m.CommunityID, Jurisdiction: m.Jurisdiction}
	}
	keys, err := s.live(ctx, holders)
	if err != nil {
		return err
	}
	with := make([][]byte, len(fs))
	for i, f := range fs {
		k := keys[string(f.data.Subject)]
		pt, err := json.Marshal(clearFields{Name: f.data.Name, NationalID: f.data.NationalID, Phone: f.data.Phone, Address: f.data.Address})
		if err != nil {
			return err
		}
		nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(pt)+k.aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return err
		}
		ct := k.aead.Seal(nonce, nonce, pt, aad(f.data.Subject, events[f.event].ID))
		if with[i], err = json.Marshal(kernel.PersonalData{Subject: f.data.Subject, Key: k.id,
			Sealed: base64.StdEncoding.EncodeToString(ct)}); err != nil {
			return err
		}
	}
	for i, data := range rewrite(fs, with, payload) {
		events[i].Data = data
	}
	return nil
}

// open opens sealed objects of the events with the given ids: clear, or Erased when the subject's key was
// destroyed. One round trip to the key store.
func (s *Store) open(ctx context.Context, items []kernel.PersonalData, events []eventlog.ID) ([]kernel.PersonalData, error) {
	seen := map[string]bool{}
	var ids []string
	for _, p := range items {
		if !seen[p.Key] {
			seen[p.Key] = true
			ids = append(ids, p.Key)
		}
	}
	keys, err := s.byID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]kernel.PersonalData, len(items))
	for i, p := range items {
		k := keys[p.Key]
		if k.subject != string(p.Subject) && k.subject != "" { // "": a spare key not learnt yet (CheckStore)
			return nil, fmt.Errorf("%w: data key %s belongs to another subject than %s", ErrTampered, p.Key, p.Subject)
		}
		if k.aead == nil {
			out[i] = kernel.PersonalData{Subject: p.Subject, Erased: true}
			continue
		}
		ct, err := base64.StdEncoding.DecodeString(p.Sealed)
		n := k.aead.NonceSize()
		if err != nil || len(ct) < n {
			return nil, fmt.Errorf("%w: the sealed personal data of %s in event %s is not ciphertext", ErrTampered, p.Subject, events[i])
		}
		pt, err := k.aead.Open(nil, ct[:n], ct[n:], aad(p.Subject, events[i]))
		if err != nil {
			return nil, fmt.Errorf("%w: the sealed personal data of %s in event %s", ErrTampered, p.Subject, events[i])
		}
		var c clearFields
		if err := json.Unmarshal(pt, &c); err != nil {
			return nil, fmt.Errorf("%w: the sealed personal data of %s in event %s: %v", ErrTampered, p.Subject, events[i], err)
		}
		out[i] = kernel.PersonalData{Subject: p.Subject, Name: c.Name, NationalID: c.NationalID, Phone: c.Phone, Address: c.Address}
	}
	return out, nil
}

// Open implements runtime.Personal: each sealed object opened (clear, or Erased); clear ones as given.
func (s *Store) Open(ctx context.Context, sealed []runtime.SealedPersonal) ([]kernel.PersonalData, error) {
	var items []kernel.PersonalData
	var events []eventlog.ID
	var at []int
	out := make([]kernel.PersonalData, len(sealed))
	for i, sp := range sealed {
		out[i] = sp.Data
		if sp.Data.IsSealed() {
			items, events, at = append(items, sp.Data), append(events, sp.Event), append(at, i)
		}
	}
	if len(items) == 0 {
		return out, nil
	}
	opened, err := s.open(ctx, items, events)
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		out[i] = opened[k]
	}
	return out, nil
}

// OpenPayloads returns the payloads of recs with every sealed personal object opened — clear, or
// {"subject":…,"erased":true} — for the readers that may see personal data (auditors). Events without
// sealed data keep their payload. recs are not modified.
func (s *Store) OpenPayloads(ctx context.Context, recs []eventlog.Recorded) ([][]byte, error) {
	payload := func(i int) []byte { return recs[i].Data }
	fs, err := find(payload, len(recs), kernel.PersonalData.IsSealed)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(recs))
	for i := range recs {
		out[i] = recs[i].Data
	}
	if len(fs) == 0 {
		return out, nil
	}
	items, events := make([]kernel.PersonalData, len(fs)), make([]eventlog.ID, len(fs))
	for i, f := range fs {
		items[i], events[i] = f.data, recs[f.event].ID
	}
	opened, err := s.open(ctx, items, events)
	if err != nil {
		return nil, err
	}
	with := make([][]byte, len(fs))
	for i := range fs {
		if with[i], err = json.Marshal(opened[i]); err != nil {
			return nil, err
		}
	}
	for i, data := range rewrite(fs, with, payload) {
		out[i] = data
	}
	return out, nil
}

// personalSpans returns the byte ranges of the personal objects of a JSON document, in order: every
// object that is the value of a key "personal", or an element of an array that is. The document is JSON
// as the ledger writes it; anything else is an error.
func personalSpans(d []byte) ([][2]int, error) {
	var out [][2]int
	i, err := scanValue(d, skipWS(d, 0), false, &out)
	if err != nil {
		return nil, err
	}
	if skipWS(d, i) != len(d) {
		return nil, fmt.Errorf("keys: trailing data after the JSON document at byte %d", i)
	}
	return out, nil
}

func skipWS(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

func scanString(d []byte, i int) (int, error) {
	if i >= len(d) || d[i] != '"' {
		return i, fmt.Errorf("keys: expected a string at byte %d", i)
	}
	for i++; i < len(d); i++ {
		switch d[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return i, fmt.Errorf("keys: unterminated string")
}

// scanValue scans the value at d[i:] and returns where it ends; personal says it is the value of a key
// "personal" (an object there is a span; an array passes it on to its elements).
func scanValue(d []byte, i int, personal bool, out *[][2]int) (int, error) {
	if i >= len(d) {
		return i, fmt.Errorf("keys: unexpected end of JSON")
	}
	switch d[i] {
	case '{':
		start := i
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == '}' {
			i++
		} else {
			for {
				ks := i
				var err error
				if i, err = scanString(d, i); err != nil {
					return i, err
				}
				isPersonal := !personal && bytes.Equal(d[ks:i], personalKey)
				if i = skipWS(d, i); i >= len(d) || d[i] != ':' {
					return i, fmt.Errorf("keys: expected ':' at byte %d", i)
				}
				if i, err = scanValue(d, skipWS(d, i+1), isPersonal, out); err != nil {
					return i, err
				}
				if i = skipWS(d, i); i < len(d) && d[i] == ',' {
					i = skipWS(d, i+1)
					continue
				}
				if i < len(d) && d[i] == '}' {
					i++
					break
				}
				return i, fmt.Errorf("keys: expected ',' or '}' at byte %d", i)
			}
		}
		if personal {
			*out = append(*out, [2]int{start, i})
		}
		return i, nil
	case '[':
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = scanValue(d, i, personal, out); err != nil {
				return i, err
			}
			if i = skipWS(d, i); i < len(d) && d[i] == ',' {
				i = skipWS(d, i+1)
				continue
			}
			if i < len(d) && d[i] == ']' {
				return i + 1, nil
			}
			return i, fmt.Errorf("keys: expected ',' or ']' at byte %d", i)
		}
	case '"':
		return scanString(d, i)
	default:
		j := i
		for j < len(d) && !bytes.ContainsRune([]byte(",}] \t\n\r"), rune(d[j])) {
			j++
		}
		if j == i {
			return i, fmt.Errorf("keys: unexpected %q at byte %d", d[i], i)
		}
		return j, nil
	}
}

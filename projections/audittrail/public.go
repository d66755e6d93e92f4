package audittrail

import (
	"bytes"
	"encoding/json"
	"strings"
)

// PublicContent is the part of an event's payload the public may see on its 来源 page: the payload with
// every personal object removed (names, ID numbers, phones, addresses: sealed or not), the person id of an
// individual payee (and a payee key naming one), and the text of a resident's objection (who objected and what they wrote stay
// private; the board shows that objections were raised and the committee's answer). Nil when the payload
// is not a JSON object.
func PublicContent(eventType string, data []byte) []byte {
	if !privateText[eventType] && !bytes.Contains(data, personalKey) && !bytes.Contains(data, personPrefix) && !bytes.Contains(data, individual) {
		if len(data) > 0 && data[0] == '{' && json.Valid(data) {
			return data // nothing to remove: the payload as it is (most events)
		}
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v map[string]any
	if err := d.Decode(&v); err != nil {
		return nil
	}
	if privateText[eventType] {
		delete(v, "text")
	}
	strip(v)
	out, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return out
}

var (
	personalKey  = []byte(`"personal"`)
	personPrefix = []byte(`"person:`)
	individual   = []byte(`"individual"`)
)

// privateText are the events whose text is a resident's own words (an objection), never public.
var privateText = map[string]bool{"disclosure.objection-raised": true, "election.objection-raised": true}

// strip removes the personal objects and an individual's person id, at any depth.
func strip(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "personal")
		if v["kind"] == "individual" {
			delete(v, "person")
		}
		for k, x := range v {
			if s, ok := x.(string); ok && strings.HasPrefix(s, "person:") { // a payee key naming an individual
				delete(v, k)
				continue
			}
			strip(x)
		}
	case []any:
		for _, x := range v {
			strip(x)
		}
	}
}

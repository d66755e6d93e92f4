package commands

import (
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// The value types commands share. They mirror the domain's types with the documentation and validation
// tags the API schema is derived from (a field is required unless its JSON tag says omitempty or
// omitzero), and convert to the domain's types in one place.

// Personal is personal data about a natural person (个人信息): name, national ID number, phone, address.
// It is never public and never logged; it is kept apart in the event so that it can be encrypted with the
// person's own key and later erased (crypto-shredding) without rewriting history.
type Personal struct {
	Subject    string `json:"subject,omitempty" maxLength:"128" doc:"Opaque person id the data is about; defaults to the person the command names (本人编号)"`
	Name       string `json:"name,omitempty" maxLength:"64" doc:"Full name (姓名); the public sees only a masked form such as 张*"`
	NationalID string `json:"national_id,omitempty" maxLength:"32" doc:"National ID number (身份证号); never public"`
	Phone      string `json:"phone,omitempty" maxLength:"32" doc:"Phone number (电话); never public"`
	Address    string `json:"address,omitempty" maxLength:"256" doc:"Home address (住址); never public"`
}

// of returns the personal data as the domain records it, about person unless Subject says otherwise.
func (p *Personal) of(person string) *kernel.PersonalData {
	if p == nil {
		return nil
	}
	d := p.value(person)
	return &d
}

func (p *Personal) value(person string) kernel.PersonalData {
	if p == nil {
		return kernel.PersonalData{}
	}
	subject := p.Subject
	if subject == "" {
		subject = person
	}
	return kernel.PersonalData{Subject: kernel.PersonID(subject), Name: p.Name, NationalID: p.NationalID, Phone: p.Phone, Address: p.Address}
}

// Period is a span of calendar time, both ends included (所属期间).
type Period struct {
	From time.Time `json:"from" doc:"First instant covered (RFC 3339)"`
	To   time.Time `json:"to" doc:"Last instant covered (RFC 3339); not before from"`
}

// Window is a publicity window (公示期), during which residents may object.
type Window struct {
	Start time.Time `json:"start" doc:"When the notice goes up (RFC 3339)"`
	End   time.Time `json:"end" doc:"When the publicity window ends (RFC 3339); after start and after now"`
}

// Attachment is a document attached to a notice, referenced by its SHA-256 so that the paper and the
// ledger can be compared.
type Attachment struct {
	Name   string `json:"name" minLength:"1" maxLength:"256" doc:"File name as shown on the board"`
	SHA256 string `json:"sha256" pattern:"^[0-9a-f]{64}$" doc:"SHA-256 of the document, lower-case hex"`
}

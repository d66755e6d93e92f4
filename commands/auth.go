package commands

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what an authenticated actor may do.
type Role string

const (
	// RoleClerk records the affairs of the communities under its scope (村委会/居委会 文书、会计).
	RoleClerk Role = "clerk"
	// RoleCommittee is a committee member: the same writes as a clerk, under its scope.
	RoleCommittee Role = "committee"
	// RoleAuditor reads everything and writes nothing (审计、经管站).
	RoleAuditor Role = "auditor"
	// RoleSupervisor reads alerts and ratings under its scope (民政局督查组、街道).
	RoleSupervisor Role = "supervisor"
	// RoleAdmin manages the registry, the rulebook and tokens under its scope.
	RoleAdmin Role = "admin"
	// RolePublic is anyone, without an account: the portal gives residents' objections and topics as it
	// (PublicActor). No token has it (it is not in Roles).
	RolePublic Role = "public"
)

// PublicActor is the actor of what residents submit through the portal: recorded as "public:portal",
// never with an address or a name.
var PublicActor = Actor{Subject: "portal", Role: RolePublic, Scope: "*"}

// Roles lists every role, for validation and help texts.
var Roles = []Role{RoleClerk, RoleCommittee, RoleAuditor, RoleSupervisor, RoleAdmin}

// ParseRole accepts a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want one of clerk, committee, auditor, supervisor, admin)", s)
}

// Actor is who gives a command: the subject of an API token, its role and the jurisdiction path it is
// scoped to ("" or "*" for the whole country).
type Actor struct {
	Subject string
	Role    Role
	Scope   string
}

// String is the actor as recorded in event metadata: "role:subject".
func (a Actor) String() string { return string(a.Role) + ":" + a.Subject }

// Covers reports whether the actor's scope includes the jurisdiction path (itself or anything under it).
func (a Actor) Covers(path string) bool {
	if a.Scope == "" || a.Scope == "*" {
		return true
	}
	return path == a.Scope || strings.HasPrefix(path, a.Scope+"/")
}

// Action is the kind of access a command needs.
type Action uint8

const (
	// RecordAffairs is writing a community's elections, meetings, funds, disclosures and audits.
	RecordAffairs Action = iota
	// Administer is writing the registry, the rulebook and tokens.
	Administer
	// Watch is reading alerts, ratings and webhooks (督查): supervisors, auditors and admins.
	Watch
	// Supervise is acting on alerts and webhooks: resolving an alert, registering, deleting or replaying a
	// webhook (supervisors and admins).
	Supervise
	// Audit is the auditors' API: replaying a community's history, exporting its trail, verifying the
	// chains (auditors only: their reads include personal data).
	Audit
	// ResidentInput is what residents may submit themselves (群众参与): an objection to a notice in its
	// publicity window, a topic for deliberation. The public may, and so may those who record for them.
	ResidentInput
	// Inspect is supervision casework (督查): recording an inspection of a community, ordering a finding
	// rectified, publishing a street's or district's bulletin (supervisors and admins).
	Inspect
	// LookUpPersonal is a clerk's look-up of the personal data recorded for a person in the communities of
	// its scope (a payee's phone, a resident's address): clerks and admins, never the public.
	LookUpPersonal
)

// Authorize decides whether actor may perform action on the jurisdiction path. Auditors write nothing;
// supervisors only their casework (Inspect); clerks and committee members record affairs in their scope; admins administer in
// theirs (and may also record affairs there, for corrections by the district). The executor decides it
// once per command (the role before anything is read, the scope once the target is known).
func Authorize(actor Actor, action Action, path string) error {
	if f := authorizeRole(actor, action); f != nil {
		f.Path = path
		return f
	}
	return authorizeScope(actor, path)
}

// permissions is the one authorization table: the roles that may perform each action in their scope.
// A new action is added here, and nowhere else.
var permissions = map[Action][]Role{
	RecordAffairs:  {RoleClerk, RoleCommittee, RoleAdmin},
	Administer:     {RoleAdmin},
	Watch:          {RoleSupervisor, RoleAuditor, RoleAdmin},
	Supervise:      {RoleSupervisor, RoleAdmin},
	Inspect:        {RoleSupervisor, RoleAdmin},
	Audit:          {RoleAuditor},
	LookUpPersonal: {RoleClerk, RoleAdmin},
	ResidentInput:  {RolePublic, RoleClerk, RoleCommittee, RoleAdmin},
}

// writerActions are the actions of a command route unless it says otherwise (Writer's concern).
var writerActions = []Action{RecordAffairs, Administer}

func allowed(role Role, action Action) bool { return slices.Contains(permissions[action], role) }

// Writer refuses an actor whose role may do none of the actions a command route is for (by default those
// of the affairs and administrative commands, RecordAffairs and Administer; the casework routes are for
// Inspect), looking at no target: the HTTP edge asks it before reading a body, so an auditor is refused on
// every route, a supervisor on every route but casework, a clerk on casework. The authorization of a
// command itself is the executor's, once, on its target.
func Writer(actor Actor, actions ...Action) error {
	if len(actions) == 0 {
		actions = writerActions
	}
	for _, a := range actions {
		if allowed(actor.Role, a) {
			return nil
		}
	}
	return authorizeRole(actor, actions[0])
}

// authorizeRole is the half of Authorize that needs no target: the role may do action somewhere (the
// refusal names the actor's own scope).
func authorizeRole(actor Actor, action Action) *Forbidden {
	if !allowed(actor.Role, action) {
		return &Forbidden{Actor: actor, Path: actor.Scope, Reason: fmt.Sprintf("role %s may not do this", actor.Role)}
	}
	return nil
}

// authorizeScope is the other half: the actor's scope covers path.
func authorizeScope(actor Actor, path string) error {
	if !actor.Covers(path) {
		return &Forbidden{Actor: actor, Path: path, Reason: fmt.Sprintf("token is scoped to %s", actor.Scope)}
	}
	return nil
}

// Forbidden is an authorization refusal (HTTP 403). Nothing was read or written.
type Forbidden struct {
	Actor  Actor
	Path   string
	Reason string
}

func (e *Forbidden) Error() string {
	return fmt.Sprintf("forbidden: %s on %s: %s", e.Actor, e.Path, e.Reason)
}

package supervision

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// WebhookPolicy is what webhook URLs may point at. By default only https URLs whose every address is
// public: a supervisor's token must not make the ledger call into the data centre (loopback, private
// networks, link-local and cloud metadata addresses, unspecified, multicast, carrier-grade NAT, reserved
// ranges). The checks run at registration and again at every delivery, on the address actually dialled,
// so a name that resolved to a public address at registration and to a private one later (DNS
// rebinding) is refused at delivery.
type WebhookPolicy struct {
	// AllowHTTP admits http:// URLs (an administrator's choice for receivers on a trusted network).
	AllowHTTP bool
	// AllowPrivate admits private and loopback addresses (receivers inside the same network; tests).
	AllowPrivate bool
	// Resolver resolves names at registration; default net.DefaultResolver.
	Resolver *net.Resolver
}

// ErrWebhookAddress: the webhook's host resolves to an address the policy refuses.
var ErrWebhookAddress = kernel.Invalid("webhook-address-not-public", "url",
	"webhook 地址须指向公网地址：本机、内网、链路本地、云元数据等地址不允许")

// errDialRefused is returned by the delivery dialer for an address the policy refuses.
var errDialRefused = errors.New("webhook: refusing to connect to a non-public address")

// checkURL checks a URL at registration: scheme, host, and every address the host resolves to.
func (p WebhookPolicy) checkURL(ctx context.Context, u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowHTTP:
	case u.Scheme == "http":
		return kernel.Invalid("webhook-url-not-https", "url", "webhook 地址须为 https://（管理员可允许 http）")
	default:
		return ErrBadWebhookURL
	}
	if u.User != nil {
		return kernel.Invalid("invalid-webhook-url", "url", "webhook 地址不能包含用户名或密码")
	}
	host := u.Hostname()
	if host == "" {
		return ErrBadWebhookURL
	}
	if p.AllowPrivate {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !publicAddr(a) {
			return ErrWebhookAddress
		}
		return nil
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return kernel.Invalid("webhook-host-unresolvable", "url", fmt.Sprintf("无法解析 webhook 主机名 %s", host))
	}
	for _, a := range addrs {
		if !publicAddr(a) {
			return ErrWebhookAddress
		}
	}
	return nil
}

// client returns the HTTP client of the deliveries: no redirects, a 10 s timeout, and a dialer that
// refuses non-public addresses (unless allowed) at the moment of connecting.
func (p WebhookPolicy) client() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		if p.AllowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !publicAddr(ap.Addr()) {
			return errDialRefused
		}
		return nil
	}}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a proxy would dial for us and escape the check
	t.DialContext = d.DialContext
	return &http.Client{Timeout: 10 * time.Second, Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
		"224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
		"::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// publicAddr reports whether a is a public unicast address (IPv4-mapped IPv6 is judged as IPv4).
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

package eventlog

import (
	"fmt"
	"strings"
)

// Stream names (DESIGN.md decision 3): one stream per aggregate instance, "<kind>-<communityID>-<id>",
// and one alert stream per district, "alerts-<districtID>". Kinds are lower-case words without hyphens,
// so the community id is always the second hyphen-separated field.

// StreamName builds "<kind>-<communityID>-<id>". The id may contain hyphens.
func StreamName(kind, communityID, id string) string {
	return kind + "-" + communityID + "-" + id
}

// AlertsStream is the stream of a district's supervision alerts.
func AlertsStream(districtID string) string { return "alerts-" + districtID }

// SplitStreamName returns the kind, community id and aggregate id of a stream built by StreamName.
func SplitStreamName(stream string) (kind, communityID, id string, err error) {
	parts := strings.SplitN(stream, "-", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("eventlog: stream %q is not <kind>-<community>-<id>", stream)
	}
	return parts[0], parts[1], parts[2], nil
}

package portal

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image"
	"image/color"
	"image/png"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// qrModulePixels is the size of one module of a printed QR code, and qrQuiet the quiet zone around it, in
// modules (the standard asks for four).
const (
	qrModulePixels = 6
	qrQuiet        = 4
)

// bitmapWriter takes the encoder's matrix (the library's writers live in modules of their own).
type bitmapWriter struct{ bits *[][]bool }

func (w bitmapWriter) Write(m qrcode.Matrix) error { *w.bits = m.Bitmap(); return nil }
func (bitmapWriter) Close() error                  { return nil }

// qrPNG is a QR code of text (error correction M) as a black-on-white PNG.
func qrPNG(text string) ([]byte, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, err
	}
	var bits [][]bool
	if err := q.Save(bitmapWriter{&bits}); err != nil {
		return nil, err
	}
	n := len(bits)
	side := (n + 2*qrQuiet) * qrModulePixels
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y, row := range bits {
		for x, on := range row {
			if !on {
				continue
			}
			for dy := range qrModulePixels {
				for dx := range qrModulePixels {
					img.SetGray((x+qrQuiet)*qrModulePixels+dx, (y+qrQuiet)*qrModulePixels+dy, color.Gray{Y: 0})
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// qrDataURL is the QR code of text as a data: URL for an <img> (the pages load nothing from elsewhere).
func qrDataURL(text string) (template.URL, error) {
	b, err := qrPNG(text)
	if err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b)), nil
}

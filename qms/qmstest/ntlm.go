package qmstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// The server side of NTLM (MS-NLMP) as far as a test needs it: read the
// NEGOTIATE (type 1) message, answer a CHALLENGE (type 2), and check the
// AUTHENTICATE (type 3) message's NTLMv2 response against the account's
// NT hash (MD4 of the UTF-16 password, given in hex so the fake needs no
// MD4 of its own).

var ntlmSignature = []byte("NTLMSSP\x00")

// Negotiate flags the challenge sets (MS-NLMP 2.2.2.5).
const (
	flagUnicode         = 1 << 0
	flagRequestTarget   = 1 << 2
	flagNTLM            = 1 << 9
	flagAlwaysSign      = 1 << 15
	flagTargetDomain    = 1 << 16
	flagExtendedSession = 1 << 19
	flagTargetInfo      = 1 << 23
	flagVersion         = 1 << 25
	flag128             = 1 << 29
	flag56              = 1 << 31
)

// ntlmMessage decodes an Authorization header's token and returns its
// message type.
func ntlmMessage(token string) ([]byte, uint32, error) {
	msg, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil, 0, fmt.Errorf("NTLM token is not base64: %w", err)
	}
	if len(msg) < 12 || !bytes.Equal(msg[:8], ntlmSignature) {
		return nil, 0, errors.New("NTLM token lacks the NTLMSSP signature")
	}
	return msg, binary.LittleEndian.Uint32(msg[8:12]), nil
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, r)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// challengeMessage builds a type 2 message for domain with a new server
// challenge.
func challengeMessage(domain string, now time.Time) (msg []byte, challenge [8]byte) {
	rand.Read(challenge[:])
	target := utf16le(domain)
	var info []byte
	av := func(id uint16, value []byte) {
		info = binary.LittleEndian.AppendUint16(info, id)
		info = binary.LittleEndian.AppendUint16(info, uint16(len(value)))
		info = append(info, value...)
	}
	av(2, utf16le(domain)) // MsvAvNbDomainName
	av(1, utf16le("QMS"))  // MsvAvNbComputerName
	filetime := uint64(now.UnixNano()/100) + 116444736000000000
	av(7, binary.LittleEndian.AppendUint64(nil, filetime)) // MsvAvTimestamp
	av(0, nil)                                             // MsvAvEOL

	const header = 56 // fixed fields and version
	msg = append(msg, ntlmSignature...)
	msg = binary.LittleEndian.AppendUint32(msg, 2)
	msg = appendField(msg, len(target), header)
	msg = binary.LittleEndian.AppendUint32(msg, flagUnicode|flagRequestTarget|flagNTLM|flagAlwaysSign|flagTargetDomain|
		flagExtendedSession|flagTargetInfo|flagVersion|flag128|flag56)
	msg = append(msg, challenge[:]...)
	msg = append(msg, make([]byte, 8)...) // reserved
	msg = appendField(msg, len(info), header+len(target))
	msg = append(msg, 10, 0, 0x63, 0x45, 0, 0, 0, 15) // version 10.0.17763, NTLM revision 15
	msg = append(msg, target...)
	return append(msg, info...), challenge
}

func appendField(b []byte, length, offset int) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(length))
	b = binary.LittleEndian.AppendUint16(b, uint16(length))
	return binary.LittleEndian.AppendUint32(b, uint32(offset))
}

func field(msg []byte, at int) ([]byte, error) {
	if len(msg) < at+8 {
		return nil, errors.New("NTLM AUTHENTICATE message too short")
	}
	n := int(binary.LittleEndian.Uint16(msg[at:]))
	off := int(binary.LittleEndian.Uint32(msg[at+4:]))
	if off+n > len(msg) {
		return nil, errors.New("NTLM AUTHENTICATE field out of bounds")
	}
	return msg[off : off+n], nil
}

// checkAuthenticate verifies a type 3 message against the account
// DOMAIN\user whose NT hash is ntHash (hex), and returns the DOMAIN\user
// it names.
func checkAuthenticate(msg []byte, challenge [8]byte, account, ntHash string) (string, error) {
	nt, err := field(msg, 20)
	if err != nil {
		return "", err
	}
	domainB, err := field(msg, 28)
	if err != nil {
		return "", err
	}
	userB, err := field(msg, 36)
	if err != nil {
		return "", err
	}
	domain, user := fromUTF16le(domainB), fromUTF16le(userB)
	who := domain + `\` + user
	if !strings.EqualFold(who, account) {
		return who, fmt.Errorf("unknown account %s", who)
	}
	if len(nt) < 24 {
		return who, errors.New("not an NTLMv2 response")
	}
	hash, err := hex.DecodeString(ntHash)
	if err != nil {
		return who, err
	}
	key := hmacMD5(hash, utf16le(strings.ToUpper(user)+domain))
	if !hmac.Equal(nt[:16], hmacMD5(key, challenge[:], nt[16:])) {
		return who, fmt.Errorf("wrong password for %s", who)
	}
	return who, nil
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	mac := hmac.New(md5.New, key)
	for _, d := range data {
		mac.Write(d)
	}
	return mac.Sum(nil)
}

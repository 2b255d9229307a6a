package main

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tok is one token with its IOB2 tag.
type tok struct{ text, tag string }

// tagged returns the tokens of phrase tagged as one entity of type typ
// (typ "" = outside).
func tagged(typ, phrase string) []tok {
	var out []tok
	for i, w := range strings.Fields(phrase) {
		t := "O"
		if typ != "" {
			if i == 0 {
				t = "B-" + typ
			} else {
				t = "I-" + typ
			}
		}
		out = append(out, tok{w, t})
	}
	return out
}

// patient is what stays fixed within one note.
type patient struct {
	female    bool
	age       int
	complaint string // main symptom
	diagnosis string
	drugs     []drug
	year      int
	month     int
	day       int
}

// ctx renders templates for one note.
type ctx struct {
	r *rng
	p *patient
}

var slotRE = regexp.MustCompile(`\{[^}]*\}`)

// render expands one template into tokens. Template syntax:
//
//	word             a literal token, tag O
//	{slot}           a slot function from slots (may yield several entities)
//	{a|b|c}          one literal alternative, tag O
//	{TAG:a|b}        one alternative tagged as entity TAG
//	{g:masc|fem}     the alternative agreeing with the patient's gender
func (c *ctx) render(tpl string) []tok {
	var out []tok
	pos := 0
	for _, m := range slotRE.FindAllStringIndex(tpl, -1) {
		out = append(out, tagged("", tpl[pos:m[0]])...)
		out = append(out, c.expand(tpl[m[0]+1:m[1]-1])...)
		pos = m[1]
	}
	out = append(out, tagged("", tpl[pos:])...)
	if len(out) > 0 {
		out[0].text = capitalize(out[0].text)
	}
	return out
}

func (c *ctx) expand(s string) []tok {
	if typ, alts, ok := strings.Cut(s, ":"); ok {
		opts := strings.Split(alts, "|")
		if typ == "g" {
			if c.p.female {
				return tagged("", opts[len(opts)-1])
			}
			return tagged("", opts[0])
		}
		return tagged(typ, pick(c.r, opts))
	}
	if strings.Contains(s, "|") {
		return tagged("", pick(c.r, strings.Split(s, "|")))
	}
	f, ok := slots[s]
	if !ok {
		panic(fmt.Sprintf("gen: unknown slot {%s}", s))
	}
	return f(c)
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func cat(parts ...[]tok) []tok {
	var out []tok
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// feminine symptoms accept the characteristics, which are feminine adjectives.
var femSymptoms = []string{"dor", "dor", "dor", "dor abdominal", "dor torácica", "dor lombar",
	"tosse", "cefaleia", "dispneia", "febre", "dor precordial", "lombalgia", "diarreia", "epigastralgia"}

var lungFindings = []string{"estertores crepitantes", "sibilos", "roncos", "murmúrio vesicular diminuído"}

var heartFindings = []string{"sopro sistólico", "taquicardia", "bradicardia"}

var nounEvolutions = []string{"melhora", "piora", "resolução", "agravamento", "remissão",
	"progressão", "melhora progressiva", "melhora parcial", "persistência", "regressão", "recidiva"}

var cities = []string{"Curitiba", "Londrina", "Maringá", "Cascavel", "Ponta Grossa", "Joinville",
	"Florianópolis", "Porto Alegre", "São Paulo", "Campinas", "Belo Horizonte", "Salvador"}

func (c *ctx) dur() []tok {
	r := c.r
	switch r.IntN(5) {
	case 0:
		return tagged("DT", "há "+itoa(r.between(2, 15))+" dias")
	case 1:
		return tagged("DT", "há "+pick(r, []string{"duas", "três", "quatro"})+" semanas")
	case 2:
		return tagged("DT", "há "+itoa(r.between(1, 12))+pick(r, []string{" meses", " meses", " horas"}))
	case 3:
		return tagged("DT", "há "+pick(r, []string{"um dia", "uma semana", "um mês", "um ano", "dois dias", "três dias"}))
	}
	return tagged("DT", "há "+itoa(r.between(1, 10))+" anos")
}

func (c *ctx) date() []tok {
	r := c.r
	d := c.p.day + r.IntN(12)
	m := c.p.month
	if d > 28 {
		d -= 28
		m = m%12 + 1
	}
	switch r.IntN(3) {
	case 0:
		return tagged("DT", fmt.Sprintf("%02d/%02d/%d", d, m, c.p.year))
	case 1:
		return tagged("DT", fmt.Sprintf("%d de %s de %d", d, months[m-1], c.p.year))
	}
	return tagged("DT", fmt.Sprintf("%d/%d", d, m))
}

func (c *ctx) freq(every int) []tok {
	if every == 24 {
		return tagged("DT", pick(c.r, []string{"uma vez ao dia", "uma vez ao dia", "pela manhã", "à noite"}))
	}
	if c.r.chance(0.5) {
		return cat(tagged("", "de"), tagged("DT", fmt.Sprintf("%d/%d horas", every, every)))
	}
	return cat(tagged("", "a cada"), tagged("DT", fmt.Sprintf("%d horas", every)))
}

func (c *ctx) drug() drug {
	if len(c.p.drugs) > 0 && c.r.chance(0.5) {
		return pick(c.r, c.p.drugs)
	}
	return pick(c.r, drugs)
}

// drugFull is "THER V por RA FREQ": a prescription line.
func (c *ctx) drugFull() []tok {
	d := c.drug()
	out := cat(tagged("THER", d.name), tagged("V", pick(c.r, d.doses)))
	if c.r.chance(0.5) {
		out = append(out, tok{",", "O"})
	} else {
		out = append(out, tok{"por", "O"})
	}
	out = cat(out, tagged("RA", pick(c.r, d.routes)), c.freq(pick(c.r, d.every)))
	return out
}

func (c *ctx) labValue(l labTest) string {
	v := decimal(c.r.float(l.lo, l.hi), l.decimals)
	if l.unit == "" {
		return v
	}
	return v + " " + l.unit
}

// slots are the named template slots.
var slots map[string]func(c *ctx) []tok

func init() {
	slots = map[string]func(c *ctx) []tok{
		"sym": func(c *ctx) []tok { return tagged("C", pick(c.r, symptoms)) },
		"main": func(c *ctx) []tok {
			return tagged("C", c.p.complaint)
		},
		"symch": func(c *ctx) []tok {
			return cat(tagged("C", pick(c.r, femSymptoms)), tagged("CH", pick(c.r, characteristics)))
		},
		"lungfind":  func(c *ctx) []tok { return tagged("C", pick(c.r, lungFindings)) },
		"heartfind": func(c *ctx) []tok { return tagged("C", pick(c.r, heartFindings)) },
		"labname":   func(c *ctx) []tok { return tagged("T", pick(c.r, labs).name) },
		"habit":     func(c *ctx) []tok { return tagged("OBS", pick(c.r, observations[:10])) },
		"allergy":   func(c *ctx) []tok { return tagged("OBS", pick(c.r, observations[10:12])) },
		"dis":       func(c *ctx) []tok { return tagged("C", pick(c.r, diseases)) },
		"dx":        func(c *ctx) []tok { return tagged("C", c.p.diagnosis) },
		"find":      func(c *ctx) []tok { return tagged("C", pick(c.r, findings)) },
		"site":      func(c *ctx) []tok { return tagged("AS", pick(c.r, sites)) },
		"ch":        func(c *ctx) []tok { return tagged("CH", pick(c.r, characteristics)) },
		"img":       func(c *ctx) []tok { return tagged("T", pick(c.r, imaging)) },
		"qtest":     func(c *ctx) []tok { return tagged("T", pick(c.r, qualTests)) },
		"res":       func(c *ctx) []tok { return tagged("R", pick(c.r, results)) },
		"ev":        func(c *ctx) []tok { return tagged("EV", pick(c.r, nounEvolutions)) },
		"obs":       func(c *ctx) []tok { return tagged("OBS", pick(c.r, observations)) },
		"gen":       func(c *ctx) []tok { return tagged("G", pick(c.r, genetics)) },
		"neg":       func(c *ctx) []tok { return tagged("N", pick(c.r, negations)) },
		"dur":       func(c *ctx) []tok { return c.dur() },
		"date":      func(c *ctx) []tok { return c.date() },
		"proc":      func(c *ctx) []tok { return tagged("THER", pick(c.r, procedures)) },
		"drug":      func(c *ctx) []tok { return tagged("THER", c.drug().name) },
		"drugrx":    func(c *ctx) []tok { return c.drugFull() },
		"drugdose": func(c *ctx) []tok {
			d := c.drug()
			return cat(tagged("THER", d.name), tagged("V", pick(c.r, d.doses)))
		},
		"route": func(c *ctx) []tok {
			return tagged("RA", pick(c.r, []string{"via oral", "via endovenosa", "via subcutânea", "via intramuscular"}))
		},
		"lab": func(c *ctx) []tok {
			l := pick(c.r, labs)
			sep := pick(c.r, []string{"de", ":", "de", "="})
			return cat(tagged("T", l.name), tagged("", sep), tagged("V", c.labValue(l)))
		},
		"vital": func(c *ctx) []tok {
			v := pick(c.r, vitals)
			return cat(tagged("T", v.name), tagged("", pick(c.r, []string{"de", ":"})), tagged("V", v.format(c.r)))
		},
		"size": func(c *ctx) []tok {
			return tagged("V", decimal(c.r.float(0.4, 6), 1)+" cm")
		},
		"time": func(c *ctx) []tok {
			return tagged("DT", fmt.Sprintf("%dh%02d", c.r.between(0, 23), c.r.IntN(4)*15))
		},
		"period": func(c *ctx) []tok {
			return tagged("DT", pick(c.r, []string{"7 dias", "10 dias", "14 dias", "5 dias", "30 dias", "três meses", "uma semana", "duas semanas", "seis meses"}))
		},
		"rel": func(c *ctx) []tok {
			return tagged("DT", pick(c.r, []string{"ontem", "hoje", "anteontem", "ontem à noite", "hoje pela manhã"}))
		},
		"year": func(c *ctx) []tok { return tagged("DT", itoa(c.r.between(1995, c.p.year-1))) },
		"age":  func(c *ctx) []tok { return tagged("", itoa(c.p.age)) },
		"city": func(c *ctx) []tok { return tagged("", pick(c.r, cities)) },
	}
}

// Sections of a note: each is a list of sentence templates.
var (
	idTemplates = []string{
		"Paciente do sexo {g:masculino|feminino} , {age} anos , {g:natural|natural} de {city} .",
		"{g:Paciente masculino|Paciente feminina} de {age} anos , {g:admitido|admitida} em {date} por {main} .",
		"{g:Homem|Mulher} de {age} anos , procedente de {city} , com queixa de {main} {dur} .",
		"Paciente de {age} anos , {g:internado|internada} para investigação de {main} .",
		"{g:Paciente masculino|Paciente feminina} , {age} anos , procura atendimento por {main} {dur} .",
		"Identificação : {g:sexo masculino|sexo feminino} , {age} anos , {g:aposentado|aposentada} .",
	}
	historyTemplates = []string{
		"Refere {symch} em {site} {dur} .",
		"Relata {main} e {sym} {dur} .",
		"Queixa-se de {main} {dur} , com {EV:piora} {rel} .",
		"Refere {symch} {dur} , associada a {sym} .",
		"{neg} {sym} .",
		"{neg} {sym} , {sym} ou {sym} .",
		"{neg} {sym} e {sym} .",
		"Antecedentes de {dis} e {dis} .",
		"{g:Portador|Portadora} de {dis} desde {year} , em uso de {drug} .",
		"{g:Portador|Portadora} de {dis} , em uso irregular de {drugdose} .",
		"História prévia de {dis} tratada com {proc} em {year} .",
		"Hábitos : {habit} .",
		"Paciente {habit} , com {obs} .",
		"Informa {symch} em {site} iniciada {dur} .",
		"Há relato de {sym} após as refeições {dur} .",
		"Procurou a unidade de pronto atendimento {rel} por {main} .",
		"{g:Submetido|Submetida} a {proc} em {year} , sem intercorrências .",
		"Refere {main} , {neg} {sym} .",
		"Pesquisa de mutação em {gen} {R:positiva|negativa} .",
		"Mãe com {dis} e pai com {dis} .",
		"Alergias : {allergy} .",
		"Em uso de {drugdose} e {drugdose} .",
	}
	examTemplates = []string{
		"Ao exame físico : {g:lúcido|lúcida} , {g:orientado|orientada} , {vital} , {vital} .",
		"{vital} , {vital} e {vital} na admissão .",
		"{T:Ausculta pulmonar} com {lungfind} em {AS:base pulmonar direita|base pulmonar esquerda|hemitórax direito|hemitórax esquerdo|ápice pulmonar direito} .",
		"{T:Ausculta pulmonar} {R:sem alterações|normal} .",
		"{T:Ausculta cardíaca} com {heartfind} em foco mitral .",
		"{T:Ausculta cardíaca} {R:sem alterações|normal} .",
		"{site} com {find} .",
		"Presença de {find} em {site} .",
		"{neg} {find} ou {find} .",
		"{T:Exame neurológico} {R:sem alterações|normal|alterado} .",
		"Apresenta {find} em {site} {dur} .",
		"{vital} , {g:afebril|afebril} , {neg} {find} .",
		"{C:dor à palpação} de {site} , {neg} {find} .",
	}
	labTemplates = []string{
		"Exames laboratoriais de {date} : {lab} , {lab} e {lab} .",
		"{lab} .",
		"{lab} e {lab} .",
		"{qtest} {res} .",
		"{qtest} com resultado {res} .",
		"Realizado {qtest} em {date} , {res} .",
		"Laboratório : {lab} , {lab} , {qtest} {res} .",
		"{qtest} {res} e {lab} .",
		"Controle laboratorial com {lab} .",
	}
	imagingTemplates = []string{
		"{img} evidenciou {find} em {site} .",
		"{img} de {date} mostrou {find} em {site} .",
		"{img} {res} .",
		"{img} {N:sem evidência de} {find} .",
		"{img} com {find} em {site} , medindo {size} .",
		"Solicito {img} e {qtest} .",
		"{img} de controle com {ev} de {find} em {site} .",
	}
	treatmentTemplates = []string{
		"Iniciado {drugrx} .",
		"Prescrito {drugrx} por {period} .",
		"Realizada {proc} em {date} .",
		"{g:Submetido|Submetida} a {proc} em {date} , sem intercorrências .",
		"Mantido {drug} e suspenso {drug} .",
		"Associado {drug} ao esquema , por {route} .",
		"Recebeu {drugdose} por {route} às {time} .",
		"Optado por {proc} e {drug} .",
		"Feito {drugdose} {route} com {ev} de {main} .",
	}
	evolutionTemplates = []string{
		"Evoluiu com {ev} do quadro de {main} .",
		"Paciente {EV:estável|hemodinamicamente estável} , {g:afebril|afebril} , {neg} {sym} .",
		"Apresentou {ev} clínica após {drug} .",
		"Evolui com {ev} de {sym} e {sym} .",
		"Mantém {symch} , com {ev} {rel} .",
		"Quadro de {dx} em {ev} .",
		"No {DT:segundo dia de internação|terceiro dia de internação|quinto dia de internação} apresentou {sym} .",
		"Refere {ev} do quadro de {main} , {neg} {sym} .",
	}
	planTemplates = []string{
		"Alta hospitalar em {date} com {drugrx} .",
		"Retorno ambulatorial em {period} com {qtest} .",
		"{g:Orientado|Orientada} a retornar se {sym} ou {sym} .",
		"Manter {drugrx} .",
		"Suspender {drug} .",
		"Diagnóstico principal : {dx} .",
		"Hipótese diagnóstica : {dx} .",
		"Hipóteses diagnósticas : {dx} e {dis} .",
		"Encaminhado ao ambulatório de especialidade para seguimento de {dx} .",
		"Reavaliar {labname} em {period} .",
		"Programado {proc} para {date} .",
	}
	rxTemplates = []string{
		"{drugrx} .",
		"{drugrx} , se {sym} .",
		"{drugrx} por {period} .",
		"Uso contínuo : {drugrx} .",
	}
	reportTemplates = []string{
		"Técnica : exame realizado com cortes axiais , sem contraste .",
		"Achados : {find} em {site} , medindo {size} .",
		"{site} de dimensões normais e contornos regulares .",
		"{neg} {find} .",
		"Observa-se {find} em {site} .",
		"{find} em {site} , medindo {size} .",
		"Comparado ao exame de {date} , com {ev} das alterações .",
		"Conclusão : {find} em {site} .",
		"Conclusão : exame {res} .",
	}
)

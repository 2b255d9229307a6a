package main

// The hand-written word lists the generator combines. Every entry is a
// phrase of space-separated tokens; punctuation is always its own token.

// symptoms are conditions (C) a patient reports.
var symptoms = []string{
	"dor", "febre", "tosse", "dispneia", "cefaleia", "náuseas", "vômitos", "diarreia",
	"tontura", "astenia", "mialgia", "artralgia", "dor abdominal", "dor torácica",
	"dor lombar", "palpitações", "síncope", "edema", "prurido", "disúria", "hematúria",
	"constipação", "epigastralgia", "odinofagia", "coriza", "calafrios", "sudorese noturna",
	"perda de peso", "inapetência", "dispneia aos esforços", "ortopneia", "hemoptise",
	"melena", "hematêmese", "parestesia", "fraqueza muscular", "confusão mental",
	"sonolência", "insônia", "dor precordial", "lombalgia", "dor pleurítica",
	"rash cutâneo", "icterícia", "poliúria", "polidipsia", "visão turva", "claudicação",
}

// diseases are conditions (C): diagnoses and comorbidities.
var diseases = []string{
	"hipertensão arterial sistêmica", "diabetes mellitus tipo 2", "diabetes mellitus tipo 1",
	"insuficiência cardíaca", "fibrilação atrial", "doença pulmonar obstrutiva crônica",
	"asma", "pneumonia", "pneumonia adquirida na comunidade", "infecção do trato urinário",
	"pielonefrite", "insuficiência renal crônica", "lesão renal aguda", "cirrose hepática",
	"hepatite C", "colecistite aguda", "colelitíase", "apendicite aguda", "pancreatite aguda",
	"acidente vascular cerebral isquêmico", "infarto agudo do miocárdio", "angina instável",
	"trombose venosa profunda", "tromboembolismo pulmonar", "anemia ferropriva",
	"hipotireoidismo", "hipertireoidismo", "dislipidemia", "obesidade", "osteoporose",
	"artrite reumatoide", "lúpus eritematoso sistêmico", "gota", "celulite", "erisipela",
	"sepse", "choque séptico", "tuberculose pulmonar", "dengue", "covid-19",
	"depressão", "transtorno de ansiedade", "epilepsia", "doença de Parkinson",
	"demência", "neoplasia de mama", "adenocarcinoma de próstata", "carcinoma pulmonar",
	"linfoma", "úlcera péptica", "doença do refluxo gastroesofágico", "hérnia inguinal",
	"nefrolitíase", "hiperplasia prostática benigna", "glaucoma", "catarata",
}

// findings are conditions (C) found on examination or imaging.
var findings = []string{
	"sopro sistólico", "estertores crepitantes", "sibilos", "roncos", "edema",
	"hepatomegalia", "esplenomegalia", "ascite", "derrame pleural", "consolidação",
	"nódulo", "cisto simples", "cálculo", "espessamento parietal", "atelectasia",
	"cardiomegalia", "hipertrofia ventricular esquerda", "estenose", "trombo",
	"linfonodomegalia", "massa", "fratura", "lesão expansiva", "opacidade",
	"distensão abdominal", "murmúrio vesicular diminuído", "dor à palpação",
	"sinal de Murphy positivo", "rigidez de nuca", "desidratação", "palidez cutânea",
	"taquicardia", "bradicardia", "hipotensão", "hipoxemia", "cianose",
}

// sites are anatomical sites (AS).
var sites = []string{
	"tórax", "abdome", "região lombar", "hipocôndrio direito", "epigástrio",
	"fossa ilíaca direita", "fossa ilíaca esquerda", "membro inferior esquerdo",
	"membro inferior direito", "membro superior direito", "membros inferiores",
	"base pulmonar direita", "base pulmonar esquerda", "ápice pulmonar direito",
	"hemitórax esquerdo", "hemitórax direito", "lobo inferior direito", "lobo superior esquerdo",
	"fígado", "vesícula biliar", "rim direito", "rim esquerdo", "bexiga", "próstata",
	"pâncreas", "baço", "região cervical", "joelho direito", "joelho esquerdo",
	"ombro esquerdo", "coluna lombar", "tornozelo direito", "face", "couro cabeludo",
	"região inguinal direita", "mama esquerda", "mama direita", "tireoide", "crânio",
	"ventrículo esquerdo", "valva mitral", "artéria coronária direita", "cólon sigmoide",
	"estômago", "duodeno", "esôfago", "punho esquerdo", "quadril direito",
}

// characteristics (CH) qualify a condition.
var characteristics = []string{
	"intensa", "leve", "moderada", "em aperto", "em queimação", "em pontada",
	"súbita", "progressiva", "contínua", "intermitente", "irradiada", "difusa",
	"localizada", "pulsátil", "em cólica", "produtiva", "seca", "vespertina",
	"de forte intensidade", "de início insidioso",
}

// imaging are tests (T) whose result is a finding.
var imaging = []string{
	"radiografia de tórax", "tomografia computadorizada de tórax", "tomografia de crânio",
	"tomografia de abdome", "ultrassonografia abdominal", "ultrassonografia de vias urinárias",
	"ecocardiograma", "eletrocardiograma", "ressonância magnética de coluna lombar",
	"doppler venoso", "endoscopia digestiva alta", "colonoscopia", "mamografia",
	"angiotomografia de tórax", "cintilografia miocárdica", "cateterismo cardíaco",
	"ultrassonografia de tireoide", "radiografia de joelho", "espirometria",
	"ultrassonografia obstétrica",
}

// labTest is a laboratory test (T) with its unit and a plausible range.
type labTest struct {
	name     string
	unit     string
	lo, hi   float64
	decimals int
}

var labs = []labTest{
	{"hemoglobina", "g/dL", 7, 16, 1},
	{"hematócrito", "%", 22, 48, 0},
	{"leucócitos", "/mm³", 3000, 22000, 0},
	{"plaquetas", "/mm³", 80000, 450000, 0},
	{"creatinina", "mg/dL", 0.5, 4.5, 1},
	{"ureia", "mg/dL", 15, 180, 0},
	{"sódio", "mEq/L", 125, 148, 0},
	{"potássio", "mEq/L", 2.8, 6.2, 1},
	{"glicemia", "mg/dL", 60, 420, 0},
	{"hemoglobina glicada", "%", 5, 12, 1},
	{"proteína C reativa", "mg/L", 1, 250, 0},
	{"troponina", "ng/mL", 0.01, 2.5, 2},
	{"TSH", "mUI/L", 0.1, 12, 1},
	{"colesterol total", "mg/dL", 130, 300, 0},
	{"LDL", "mg/dL", 60, 220, 0},
	{"triglicerídeos", "mg/dL", 70, 500, 0},
	{"TGO", "U/L", 12, 300, 0},
	{"TGP", "U/L", 10, 320, 0},
	{"bilirrubina total", "mg/dL", 0.3, 9, 1},
	{"albumina", "g/dL", 2, 5, 1},
	{"lactato", "mmol/L", 0.8, 7, 1},
	{"INR", "", 0.9, 4.5, 1},
	{"ferritina", "ng/mL", 8, 900, 0},
	{"PSA", "ng/mL", 0.5, 25, 1},
	{"D-dímero", "ng/mL", 200, 5000, 0},
}

// qualTests are tests (T) reported with a qualitative result (R).
var qualTests = []string{
	"hemograma", "sumário de urina", "urocultura", "hemocultura", "sorologia para HIV",
	"teste rápido para dengue", "RT-PCR para SARS-CoV-2", "função renal", "função hepática",
	"gasometria arterial", "eletrólitos", "perfil lipídico", "coagulograma",
	"pesquisa de sangue oculto nas fezes", "baciloscopia de escarro", "teste de gravidez",
}

// results (R) are qualitative results.
var results = []string{
	"normal", "sem alterações", "dentro da normalidade", "alterado", "alterada",
	"positiva", "negativa", "positivo", "negativo", "elevada", "reduzida", "inconclusivo",
	"limítrofe", "discretamente alterada",
}

// vitals are tests (T) with their value format.
type vital struct {
	name   string
	format func(r *rng) string
}

var vitals = []vital{
	{"pressão arterial", func(r *rng) string {
		return itoa(r.between(90, 180)/5*5) + "/" + itoa(r.between(50, 110)/5*5) + " mmHg"
	}},
	{"frequência cardíaca", func(r *rng) string { return itoa(r.between(48, 130)) + " bpm" }},
	{"frequência respiratória", func(r *rng) string { return itoa(r.between(12, 32)) + " irpm" }},
	{"temperatura axilar", func(r *rng) string { return decimal(r.float(35.5, 39.8), 1) + " °C" }},
	{"saturação de oxigênio", func(r *rng) string { return itoa(r.between(84, 99)) + " %" }},
	{"glicemia capilar", func(r *rng) string { return itoa(r.between(70, 380)) + " mg/dL" }},
}

// drug is a medicine (THER) with its usual doses, route (RA) and interval.
type drug struct {
	name   string
	doses  []string
	routes []string
	every  []int // hours between doses; 24 = once a day
}

var drugs = []drug{
	{"amoxicilina", []string{"500 mg", "875 mg"}, []string{"via oral"}, []int{8, 12}},
	{"amoxicilina com clavulanato", []string{"875 mg"}, []string{"via oral"}, []int{12}},
	{"azitromicina", []string{"500 mg"}, []string{"via oral"}, []int{24}},
	{"ceftriaxona", []string{"1 g", "2 g"}, []string{"via endovenosa", "via intramuscular"}, []int{12, 24}},
	{"ciprofloxacino", []string{"500 mg"}, []string{"via oral"}, []int{12}},
	{"piperacilina com tazobactam", []string{"4,5 g"}, []string{"via endovenosa"}, []int{6, 8}},
	{"vancomicina", []string{"1 g"}, []string{"via endovenosa"}, []int{12}},
	{"losartana", []string{"50 mg", "100 mg"}, []string{"via oral"}, []int{12, 24}},
	{"enalapril", []string{"10 mg", "20 mg"}, []string{"via oral"}, []int{12}},
	{"anlodipino", []string{"5 mg", "10 mg"}, []string{"via oral"}, []int{24}},
	{"hidroclorotiazida", []string{"25 mg"}, []string{"via oral"}, []int{24}},
	{"furosemida", []string{"40 mg", "20 mg"}, []string{"via oral", "via endovenosa"}, []int{12, 24}},
	{"espironolactona", []string{"25 mg"}, []string{"via oral"}, []int{24}},
	{"carvedilol", []string{"6,25 mg", "12,5 mg", "25 mg"}, []string{"via oral"}, []int{12}},
	{"metoprolol", []string{"50 mg", "100 mg"}, []string{"via oral"}, []int{12, 24}},
	{"metformina", []string{"500 mg", "850 mg"}, []string{"via oral"}, []int{8, 12}},
	{"glibenclamida", []string{"5 mg"}, []string{"via oral"}, []int{12, 24}},
	{"insulina NPH", []string{"10 UI", "20 UI", "14 UI"}, []string{"via subcutânea"}, []int{12}},
	{"insulina regular", []string{"4 UI", "6 UI"}, []string{"via subcutânea"}, []int{8}},
	{"sinvastatina", []string{"20 mg", "40 mg"}, []string{"via oral"}, []int{24}},
	{"atorvastatina", []string{"40 mg", "80 mg"}, []string{"via oral"}, []int{24}},
	{"ácido acetilsalicílico", []string{"100 mg"}, []string{"via oral"}, []int{24}},
	{"clopidogrel", []string{"75 mg"}, []string{"via oral"}, []int{24}},
	{"enoxaparina", []string{"40 mg", "60 mg", "80 mg"}, []string{"via subcutânea"}, []int{12, 24}},
	{"heparina", []string{"5000 UI"}, []string{"via subcutânea"}, []int{8, 12}},
	{"varfarina", []string{"5 mg"}, []string{"via oral"}, []int{24}},
	{"omeprazol", []string{"20 mg", "40 mg"}, []string{"via oral", "via endovenosa"}, []int{24, 12}},
	{"dipirona", []string{"1 g", "500 mg"}, []string{"via oral", "via endovenosa"}, []int{6}},
	{"paracetamol", []string{"500 mg", "750 mg"}, []string{"via oral"}, []int{6, 8}},
	{"tramadol", []string{"50 mg", "100 mg"}, []string{"via oral", "via endovenosa"}, []int{8}},
	{"morfina", []string{"2 mg", "4 mg"}, []string{"via endovenosa", "via subcutânea"}, []int{4, 6}},
	{"ondansetrona", []string{"4 mg", "8 mg"}, []string{"via endovenosa", "via oral"}, []int{8}},
	{"metoclopramida", []string{"10 mg"}, []string{"via endovenosa", "via intramuscular"}, []int{8}},
	{"prednisona", []string{"20 mg", "40 mg"}, []string{"via oral"}, []int{24}},
	{"hidrocortisona", []string{"100 mg"}, []string{"via endovenosa"}, []int{6, 8}},
	{"salbutamol", []string{"100 mcg"}, []string{"via inalatória"}, []int{4, 6}},
	{"budesonida", []string{"200 mcg"}, []string{"via inalatória"}, []int{12}},
	{"levotiroxina", []string{"50 mcg", "75 mcg", "100 mcg"}, []string{"via oral"}, []int{24}},
	{"sertralina", []string{"50 mg"}, []string{"via oral"}, []int{24}},
	{"fluoxetina", []string{"20 mg"}, []string{"via oral"}, []int{24}},
	{"clonazepam", []string{"0,5 mg", "2 mg"}, []string{"via oral"}, []int{24}},
	{"fenitoína", []string{"100 mg"}, []string{"via oral", "via endovenosa"}, []int{8}},
	{"sulfato ferroso", []string{"40 mg"}, []string{"via oral"}, []int{8, 24}},
	{"alopurinol", []string{"100 mg", "300 mg"}, []string{"via oral"}, []int{24}},
	{"cloreto de potássio", []string{"10 mEq", "20 mEq"}, []string{"via oral", "via endovenosa"}, []int{8}},
	{"soro fisiológico", []string{"500 mL", "1000 mL"}, []string{"via endovenosa"}, []int{8, 12}},
	{"diclofenaco", []string{"50 mg", "75 mg"}, []string{"via oral", "via intramuscular"}, []int{8, 12}},
	{"cefalexina", []string{"500 mg"}, []string{"via oral"}, []int{6}},
}

// procedures are therapeutics (THER) that are not medicines.
var procedures = []string{
	"colecistectomia videolaparoscópica", "apendicectomia", "angioplastia coronária",
	"hemodiálise", "fisioterapia respiratória", "oxigenoterapia", "ventilação mecânica",
	"transfusão de concentrado de hemácias", "drenagem torácica", "toracocentese",
	"paracentese", "quimioterapia", "radioterapia", "herniorrafia inguinal",
	"artroplastia de quadril", "mastectomia", "prostatectomia radical", "sondagem vesical",
	"hidratação venosa", "antibioticoterapia", "anticoagulação plena", "dieta hipossódica",
	"ressuscitação volêmica", "cardioversão elétrica", "fisioterapia motora",
}

// evolutions (EV) describe the course of a condition.
var evolutions = []string{
	"melhora", "piora", "estável", "estabilidade", "melhora progressiva", "resolução",
	"agravamento", "remissão", "recidiva", "progressão", "boa evolução", "regressão",
	"melhora parcial", "persistência",
}

// observations (OBS) are habits and context worth recording.
var observations = []string{
	"tabagista", "ex-tabagista", "etilista", "etilismo social", "sedentário", "sedentária",
	"acamado", "acamada", "gestante", "vacinação em dia", "alergia a dipirona",
	"alergia a penicilina", "uso irregular das medicações", "baixa adesão ao tratamento",
	"história familiar de câncer", "história familiar de doença coronariana",
}

// genetics (G) are genes, variants and genetic markers.
var genetics = []string{
	"BRCA1", "BRCA2", "EGFR", "HLA-B27", "KRAS", "fator V de Leiden", "JAK2",
	"HER2", "mutação do gene CFTR", "trissomia do cromossomo 21", "ALK",
}

// negations (N) are negation cues; the negated condition is tagged C.
var negations = []string{"nega", "sem", "não apresenta", "ausência de", "negou", "não refere", "sem sinais de"}

var months = []string{"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho",
	"agosto", "setembro", "outubro", "novembro", "dezembro"}

var numberWords = []string{"", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove", "dez"}

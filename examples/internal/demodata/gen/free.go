package main

// freeNotes are hand-written notes, one sentence a line, mixed into
// clinical.txt so that the pretraining text is not only template output.
var freeNotes = []string{`
Paciente chega ao pronto-socorro trazida pelo filho, que relata confusão mental desde a madrugada.
Segundo o acompanhante, ela vinha com tosse e febre baixa havia quatro dias, sem procurar atendimento.
Na admissão estava sonolenta, desidratada, com extremidades frias e tempo de enchimento capilar lentificado.
Foram colhidas duas amostras de hemocultura antes da primeira dose de antibiótico.
A gasometria mostrou acidose metabólica com lactato elevado, e a radiografia revelou consolidação em base direita.
Iniciada ressuscitação volêmica com cristaloide e ceftriaxona associada a azitromicina.
Após seis horas houve melhora do nível de consciência e da diurese.
`, `
Homem de cinquenta e oito anos, motorista, tabagista de longa data, relata dor no peito que começou durante o trabalho.
Descreve a dor como um peso no centro do tórax, que irradiava para o braço esquerdo e durou cerca de quarenta minutos.
O eletrocardiograma da chegada mostrava supradesnivelamento do segmento ST em parede inferior.
A equipe de hemodinâmica foi acionada e o paciente seguiu para cateterismo de urgência.
Foi encontrada oclusão da artéria coronária direita, tratada com angioplastia e implante de stent.
Recebeu orientação sobre cessação do tabagismo e foi encaminhado para reabilitação cardíaca.
`, `
Criança de sete anos levada pela mãe por dor de garganta e febre alta desde ontem.
Ao exame, amígdalas hiperemiadas com exsudato e linfonodos cervicais dolorosos.
Não há tosse nem coriza, o que fala a favor de faringite bacteriana.
Prescrita amoxicilina por dez dias, com dose ajustada ao peso.
A mãe foi orientada a observar sinais de alarme, como dificuldade para engolir ou respirar.
`, `
Idosa de oitenta e três anos, acamada após fratura de fêmur no ano passado, recebe visita domiciliar da equipe.
A cuidadora notou uma ferida na região sacral que aumentou nas últimas duas semanas.
Trata-se de lesão por pressão com bordas irregulares, fundo com tecido de granulação e pouca secreção.
Foi feito curativo com hidrogel e combinada mudança de decúbito a cada duas horas.
Também se reforçou a importância de uma dieta rica em proteínas e da hidratação adequada.
`, `
Gestante de trinta e duas semanas comparece ao pré-natal com queixa de cefaleia persistente e inchaço nas pernas.
A pressão aferida em duas medidas foi de cento e cinquenta por cem milímetros de mercúrio.
A proteinúria de fita foi positiva, e o quadro levantou suspeita de pré-eclâmpsia.
Ela foi encaminhada à maternidade de referência para avaliação e monitoramento fetal.
`, `
Paciente com diabetes há quinze anos procura a unidade básica para renovar receitas.
Relata que às vezes esquece a metformina do almoço e que não tem feito caminhadas.
A hemoglobina glicada do último trimestre estava acima da meta combinada na consulta anterior.
O pé direito apresenta calosidade plantar, sem úlcera, e os pulsos pediosos são palpáveis.
Conversamos sobre alimentação, atividade física e a importância do exame dos pés todos os dias.
Ficou agendado retorno com a enfermagem e avaliação oftalmológica anual.
`, `
Durante o plantão noturno, o paciente do leito doze apresentou queda da saturação e esforço respiratório.
A ausculta revelou sibilos difusos e tempo expiratório prolongado.
Foram feitas três inalações com broncodilatador e hidrocortisona endovenosa.
Ao amanhecer, respirava sem esforço em ar ambiente e pedia para tomar o café da manhã.
`, `
A paciente retorna ao ambulatório de reumatologia trazendo os exames solicitados.
Mantém rigidez matinal de cerca de uma hora e dor nas articulações das mãos, principalmente nos punhos.
O fator reumatoide e o anticorpo anti-CCP vieram reagentes, e a velocidade de hemossedimentação estava aumentada.
Discutimos o início de metotrexato semanal com ácido fólico e o acompanhamento das enzimas hepáticas.
Ela saiu da consulta com dúvidas anotadas para a próxima visita.
`, `
Jovem de dezenove anos atendido após acidente de moto, consciente, queixando-se de dor na perna esquerda.
Há deformidade evidente na perna, com ferida pequena sobre o foco de fratura.
A radiografia confirmou fratura exposta de tíbia, e o ortopedista indicou limpeza cirúrgica e fixação.
Recebeu profilaxia antitetânica, analgesia e cefazolina antes do centro cirúrgico.
`, `
Senhor de setenta anos com insuficiência cardíaca conhecida relata que passou a dormir sentado.
Ganhou quatro quilos na última semana e os sapatos já não servem.
Ao exame havia turgência jugular, crepitações nas bases e edema até os joelhos.
Ajustamos a dose do diurético e pedimos controle diário do peso, com anotação em caderno.
A família foi orientada a limitar o sal e a procurar o serviço se a falta de ar piorar.
`, `
Mulher de quarenta e cinco anos refere cansaço, queda de cabelo e ganho de peso nos últimos meses.
Também conta que sente frio com facilidade e que o intestino ficou preso.
O TSH veio elevado e o T4 livre baixo, compatíveis com hipotireoidismo primário.
Começou levotiroxina em jejum, com nova dosagem hormonal programada para seis semanas.
`, `
Relato de enfermagem: paciente aceitou parcialmente a dieta, deambulou no corredor com auxílio e urinou espontaneamente.
Sinais vitais estáveis ao longo do turno, sem queixas de dor.
O acesso venoso periférico no antebraço esquerdo está pérvio e sem sinais flogísticos.
Família presente durante a tarde, orientada quanto ao horário de visitas.
`, `
Paciente em acompanhamento oncológico comparece para o quarto ciclo de quimioterapia.
Refere náuseas nos dois primeiros dias após o ciclo anterior, controladas com ondansetrona.
O hemograma pré-quimioterapia mostrou neutrófilos adequados e plaquetas normais.
Liberada a infusão, que transcorreu sem reações.
Reforçada a orientação de procurar o hospital em caso de febre.
`, `
Adolescente de quinze anos trazido pela mãe por dor abdominal que começou em torno do umbigo e migrou para o lado direito.
Perdeu o apetite desde ontem e vomitou duas vezes.
A dor piora ao andar e ao tossir, e há defesa à palpação da fossa ilíaca direita.
O leucograma mostrou leucocitose com desvio à esquerda e a ultrassonografia sugeriu apendicite.
O cirurgião de plantão indicou apendicectomia, realizada sem complicações.
`, `
Consulta de puericultura de lactente de quatro meses em aleitamento materno exclusivo.
Ganho de peso adequado para a idade e desenvolvimento neuropsicomotor dentro do esperado.
Vacinas do calendário em dia, com a próxima dose marcada para o mês que vem.
Mãe refere cólicas no fim da tarde, que melhoram com massagem e colo.
`, `
Paciente internado há dez dias por pancreatite relata que voltou a sentir fome.
A dor diminuiu bastante e já não precisa de morfina, apenas de dipirona quando necessário.
A amilase e a lipase caíram, e a tomografia de controle mostrou redução do edema peripancreático.
Iniciada dieta leve por via oral, com boa aceitação.
Se mantiver a melhora, poderá receber alta em dois dias com orientação de evitar bebidas alcoólicas.
`}

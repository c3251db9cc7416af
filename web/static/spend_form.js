// The record-spend form offers only the chosen line's awards and the chosen
// award's tranches; without JavaScript every choice shows and the server
// refuses a mismatch beside the field.
(function () {
  var line = document.querySelector('select[name="funding_line_id"]');
  var award = document.getElementById('spend-award');
  var tranche = document.getElementById('spend-tranche');
  if (!line || !award || !tranche) return;
  function limit(select, attr, value) {
    Array.prototype.forEach.call(select.options, function (o) {
      if (!o.value) return;
      var show = value !== '' && o.getAttribute(attr) === value;
      o.hidden = !show;
      o.disabled = !show;
      if (!show && o.selected) select.value = '';
    });
  }
  function update() {
    limit(award, 'data-line', line.value);
    limit(tranche, 'data-award', award.value);
  }
  line.addEventListener('change', update);
  award.addEventListener('change', update);
  update();
})();

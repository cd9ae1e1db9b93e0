# InSpec controls for a converged (not yet booted) OSB image.
domain_home = '/u01/app/oracle/config/domains/osb_domain'

control 'osb-domain-baked' do
  title 'The domain is written and holds no secret values'
  describe file("#{domain_home}/config/config.xml") do
    it { should exist }
    its('content') { should match %r{<name>osb_cluster</name>} }
  end
  describe file('/etc/osb-image/domain-spec.json') do
    its('content') { should_not match(/"password"\s*:/i) }
  end
  describe file("#{domain_home}/servers/AdminServer/security/boot.properties") do
    it { should_not exist }
  end
end

control 'osb-units' do
  title 'Only first boot is enabled; it starts the WebLogic processes'
  describe systemd_service('osb-first-boot') do
    it { should be_enabled }
  end
  %w(osb-nodemanager osb-admin-server osb-managed-server).each do |unit|
    describe file("/etc/systemd/system/#{unit}.service") do
      it { should exist }
    end
    describe systemd_service(unit) do
      it { should_not be_enabled }
    end
  end
end

control 'osb-patches' do
  describe json('/etc/osb-image/opatch-applied.json') do
    it { should_not be_nil }
  end
end
